#!/usr/bin/python3
# reports.py: checks qq-test's TAP stream with tappy and its JUnit file with junitparser,
# readers we did not write. Usage: reports.py TAP XML|- NAME=OUTCOME...
# Prints one FAIL line per mismatch and exits 1 if there was any.
import sys

from junitparser import Error, Failure, JUnitXml, Skipped
from tap.parser import Parser

tap_path, xml_path, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
want = [p.split("=", 1) for p in pairs]
bad = []

lines = [l for l in Parser().parse_file(tap_path) if l.category in ("plan", "test")]
plans = [l for l in lines if l.category == "plan"]
tests = [l for l in lines if l.category == "test"]
if len(plans) != 1 or plans[0].expected_tests != len(want):
    bad.append("TAP plan: %r, want 1..%d" % ([p.expected_tests for p in plans], len(want)))
if len(tests) != len(want):
    bad.append("TAP: %d test points, want %d" % (len(tests), len(want)))
for i, (t, (name, outcome)) in enumerate(zip(tests, want)):
    desc = t.description.lstrip("- ").strip()
    if t.number != i + 1 or desc != name:
        bad.append("TAP point %d: number %s, name %r, want %r" % (i + 1, t.number, desc, name))
    if t.ok != (outcome == "passed"):
        bad.append("TAP %s: ok=%s for outcome %s" % (name, t.ok, outcome))
    if outcome != "passed":
        got = (t.yaml_block or {}).get("outcome")
        if got != outcome:
            bad.append("TAP %s: YAML outcome %r, want %r" % (name, got, outcome))
    if outcome != "not run" and "time=" not in (t.directive.text or ""):
        bad.append("TAP %s: no duration" % name)

if xml_path != "-":
    kinds = {"passed": None, "failed": Failure, "crashed": Failure, "timed out": Failure,
             "could not start": Error, "not run": Skipped}
    suites = list(JUnitXml.fromfile(xml_path))
    cases = [c for s in suites for c in s]
    if len(cases) != len(want):
        bad.append("JUnit: %d testcases, want %d" % (len(cases), len(want)))
    for c, (name, outcome) in zip(cases, want):
        if c.name != name:
            bad.append("JUnit: testcase %r, want %r" % (c.name, name))
        res = list(c.result)
        kind = kinds[outcome]
        if kind is None:
            if res:
                bad.append("JUnit %s: %r, want none" % (name, res))
        elif len(res) != 1 or not isinstance(res[0], kind):
            bad.append("JUnit %s: %r, want one %s" % (name, res, kind.__name__))
        elif kind is not Skipped and res[0].type != outcome:
            bad.append("JUnit %s: type %r, want %r" % (name, res[0].type, outcome))
    s = suites[0]
    nfail = sum(o in ("failed", "crashed", "timed out") for _, o in want)
    nerr = sum(o == "could not start" for _, o in want)
    nskip = sum(o == "not run" for _, o in want)
    if (s.tests, s.failures, s.errors, s.skipped) != (len(want), nfail, nerr, nskip):
        bad.append("JUnit counts %r, want %r" % ((s.tests, s.failures, s.errors, s.skipped),
                                                  (len(want), nfail, nerr, nskip)))

for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
