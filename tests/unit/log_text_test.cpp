#include "log_text.hpp"

#include <gtest/gtest.h>

using samsa::escape_for_log;

TEST(EscapeForLog, PrintableAsciiIsUnchanged) {
  EXPECT_EQ(escape_for_log("{\"id\": 42, \"name\": \"x y\"} ~!@#$%^&*()"),
            "{\"id\": 42, \"name\": \"x y\"} ~!@#$%^&*()");
  EXPECT_EQ(escape_for_log(""), "");
}

TEST(EscapeForLog, ValidMultiByteUtf8IsUnchanged) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";  // café € 日本 😀
  EXPECT_EQ(escape_for_log(text), text);
}

TEST(EscapeForLog, InvalidUtf8IsEscaped) {
  EXPECT_EQ(escape_for_log("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_for_log("a\xc3"), "a\\xc3") << "a sequence cut short";
  EXPECT_EQ(escape_for_log("\xc0\xaf"), "\\xc0\\xaf") << "an overlong '/'";
  EXPECT_EQ(escape_for_log("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a surrogate";
  EXPECT_EQ(escape_for_log("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(escape_for_log("\x80z"), "\\x80z") << "a lone continuation byte";
}

TEST(EscapeForLog, ControlCharactersNulAndBackslashAreEscaped) {
  EXPECT_EQ(escape_for_log(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_for_log("line1\nline2\r\t\x1b[31m\x7f"), "line1\\x0aline2\\x0d\\x09\\x1b[31m\\x7f");
  EXPECT_EQ(escape_for_log("C:\\dir"), "C:\\\\dir") << "an escape stays unambiguous";
  EXPECT_EQ(escape_for_log("\xc2\x9b"), "\\xc2\\x9b") << "U+009B, the C1 control CSI";
}

TEST(EscapeForLog, LongInputIsTruncatedWithTheCountOfTheRest) {
  EXPECT_EQ(escape_for_log(std::string(250, 'a')), std::string(200, 'a') + "...(50 more bytes)");
  EXPECT_EQ(escape_for_log("abcdef", 4), "abcd...(2 more bytes)");
  EXPECT_EQ(escape_for_log("abcd", 4), "abcd");
  EXPECT_EQ(escape_for_log("ab\xe2\x82\xac", 4), "ab...(3 more bytes)") << "never splits a character";
  EXPECT_EQ(escape_for_log("\xff\xff\xff", 2), "\\xff\\xff...(1 more bytes)");
}

TEST(SecretRedactor, TakesWholeAndPartialSecretValuesOutOfLibrdkafkasText) {
  const std::map<std::string, std::string> props{{"sasl.oauthbearer.config", "principal=me bogusSEKRETOA"},
                                                 {"sasl.password", "hunter2"},
                                                 {"sasl.username", "alice"}};
  const samsa::SecretRedactor r(props);
  EXPECT_FALSE(r.empty());
  // librdkafka 2.0.2's error for a bad sasl.oauthbearer.config quotes the rest of the value.
  // (The space before it is in the value too, so it goes with it.)
  EXPECT_EQ(r.redact("Failed to acquire SASL OAUTHBEARER token: Unrecognized sasl.oauthbearer.config "
                     "beginning at: bogusSEKRETOA"),
            "Failed to acquire SASL OAUTHBEARER token: Unrecognized sasl.oauthbearer.config "
            "beginning at:[redacted]");
  EXPECT_EQ(r.redact("pw hunter2, again hunter2."), "pw [redacted], again [redacted].");
  EXPECT_EQ(r.redact("user alice"), "user alice") << "sasl.username is not secret";
  EXPECT_EQ(r.redact("nothing secret here"), "nothing secret here");
  const std::map<std::string, std::string> plain{{"bootstrap.servers", "a:9092"}};
  EXPECT_TRUE(samsa::SecretRedactor(plain).empty());
}
