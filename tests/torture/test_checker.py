"""The torture test's checks must be able to fail: feed them violations."""
import json
import unittest

from torture import check_dead_letters, check_verifiable, parse_console_records


def ev(name, **fields):
    return json.dumps(dict(timestamp=0, name=name, **fields))


ASSIGN = ev("partitions_assigned", partitions=[{"topic": "t", "partition": 0}])
REVOKE = ev("partitions_revoked", partitions=[{"topic": "t", "partition": 0}])


def consumed(lo, hi):
    return ev("records_consumed", count=hi - lo + 1,
              partitions=[{"topic": "t", "partition": 0, "count": hi - lo + 1, "minOffset": lo, "maxOffset": hi}])


def commit(offset):
    return ev("offsets_committed", offsets=[{"topic": "t", "partition": 0, "offset": offset}], success=True)


class CheckVerifiable(unittest.TestCase):
    def test_a_clean_run_passes(self):
        problems, distinct = check_verifiable({"a": [ASSIGN, consumed(0, 9), commit(10), consumed(10, 19), commit(20)]})
        self.assertEqual(problems, [])
        self.assertEqual(distinct, 20)

    def test_a_commit_ahead_of_the_consumed_position_fails(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), commit(11)]})
        self.assertTrue(any("ahead" in p for p in problems), problems)

    def test_a_commit_for_a_partition_not_owned_fails(self):
        problems, _ = check_verifiable({"a": [consumed(0, 9), commit(10)]})
        self.assertTrue(any("does not own" in p for p in problems), problems)

    def test_a_gap_inside_an_assignment_fails(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), consumed(12, 19)]})
        self.assertTrue(any("gap or rewind" in p for p in problems), problems)

    def test_a_rewind_inside_an_assignment_fails(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), consumed(5, 19)]})
        self.assertTrue(any("gap or rewind" in p for p in problems), problems)

    def test_duplicates_across_members_fail(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9)], "b": [ASSIGN, consumed(5, 9)]})
        self.assertTrue(any("consumed twice" in p for p in problems), problems)

    def test_the_revocation_commit_before_the_revocation_passes(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), commit(5), consumed(10, 19), commit(20),
                                              REVOKE, ASSIGN, consumed(20, 29), commit(30), REVOKE]})
        self.assertEqual(problems, [])

    def test_a_revocation_before_the_commit_of_the_consumed_position_fails(self):
        # What verifiable_consumer --enable-autocommit printed before the fix: the revocation's
        # commit after partitions_revoked, and librdkafka's re-commit of it a second time.
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), commit(5), consumed(10, 19),
                                              REVOKE, commit(20), commit(20)]})
        self.assertTrue(any("before a commit of it" in p for p in problems), problems)
        self.assertTrue(any("repeated" in p for p in problems), problems)

    def test_a_revocation_without_any_commit_fails(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), REVOKE]})
        self.assertTrue(any("before a commit of it" in p for p in problems), problems)

    def test_a_repeated_commit_line_fails(self):
        problems, _ = check_verifiable({"a": [ASSIGN, consumed(0, 9), commit(10), commit(10), REVOKE]})
        self.assertTrue(any("repeated" in p for p in problems), problems)


# Events 0..5 on partition id % 2 at offset id // 2; 3 is poison.
SOURCE = {(i % 2, i // 2): json.dumps({"id": i, "poison": i == 3}) for i in range(6)}
SOURCE[(1, 1)] = '{"id":3,"poison":true}'


def letter(id_=3, timestamp=1000, partition=1, offset=1, value='{"id":3,"poison":true}', **headers):
    h = dict(original_topic="t", original_partition=str(partition), original_offset=str(offset),
             original_consumer_group="g", original_attempts="3", error_class="(anonymous namespace)::PoisonEvent",
             error_message=f"poison event {id_} at offset {offset}")
    h.update(headers)
    return dict(timestamp=timestamp, partition=0, offset=0, headers=h, key=str(id_), value=value)


def dead_letters(dlq, db_ids=frozenset({0, 1, 2, 4, 5}), windows=(), graceful_only=False):
    return check_dead_letters(6, {3}, set(db_ids), dlq, SOURCE, list(windows), graceful_only, "t", "g", 2)


class CheckDeadLetters(unittest.TestCase):
    def test_a_clean_run_passes(self):
        problems, figures = dead_letters([letter()])
        self.assertEqual(problems, [])
        self.assertEqual((figures["poison"], figures["dlq"], figures["lost"]), (1, 1, []))

    def test_the_console_consumer_format_is_parsed(self):
        line = ("CreateTime:1000\tPartition:0\tOffset:7\toriginal_topic:t|error_class:a::B\t3\t"
                '{"id":3,"poison":true}')
        (r,) = parse_console_records("Processed a total of 1 messages\n" + line + "\n")
        self.assertEqual((r["timestamp"], r["partition"], r["offset"], r["key"]), (1000, 0, 7, "3"))
        self.assertEqual(r["headers"], {"original_topic": "t", "error_class": "a::B"})

    def test_a_poison_event_lost_fails(self):
        problems, figures = dead_letters([])
        self.assertEqual(figures["lost"], [3])
        self.assertTrue(any("not in the dead-letter topic" in p for p in problems), problems)

    def test_an_innocent_event_dead_lettered_fails(self):
        value = SOURCE[(0, 1)]
        problems, _ = dead_letters([letter(), letter(2, partition=0, offset=1, value=value)], db_ids={0, 1, 4, 5})
        self.assertTrue(any("not poison" in p for p in problems), problems)

    def test_an_id_in_both_fails(self):
        problems, _ = dead_letters([letter()], db_ids={0, 1, 2, 3, 4, 5})
        self.assertTrue(any("both" in p for p in problems), problems)
        self.assertTrue(any("poison ids in the database" in p for p in problems), problems)

    def test_an_original_offset_that_is_not_the_poison_event_fails(self):
        problems, _ = dead_letters([letter(offset=2)])
        self.assertTrue(any("original 1/2 holds" in p for p in problems), problems)

    def test_wrong_headers_fail(self):
        problems, _ = dead_letters([letter(original_topic="x", original_attempts="2", error_class="std::bad_alloc")])
        self.assertEqual(len(problems), 3, problems)

    def test_a_duplicate_across_a_sigkill_passes(self):
        problems, figures = dead_letters([letter(timestamp=1000), letter(timestamp=3000)],
                                         windows=[(2000, 2000, "SIGKILL of m2")])
        self.assertEqual(problems, [])
        self.assertEqual(figures["duplicates"], [(3, "SIGKILL of m2")])

    def test_a_duplicate_without_a_sigkill_between_fails(self):
        problems, _ = dead_letters([letter(timestamp=1000), letter(timestamp=3000)],
                                   windows=[(4000, 4000, "SIGKILL of m2")])
        self.assertTrue(any("without a SIGKILL" in p for p in problems), problems)

    def test_a_duplicate_in_a_graceful_only_run_fails(self):
        problems, _ = dead_letters([letter(timestamp=1000), letter(timestamp=3000)], graceful_only=True)
        self.assertTrue(any("graceful stops only" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
