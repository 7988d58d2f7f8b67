"""The torture test's checks must be able to fail: feed them violations."""
import json
import unittest

from torture import check_verifiable


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


if __name__ == "__main__":
    unittest.main()
