// check: the reporting of the plain-node tests beside it. check() prints
// "ok - <case>" or "FAIL - <case>: got ..., want ..." (values compared as
// JSON); finish() prints the summary and exits 1 if any case failed.
let failed = 0;

export function check(what, got, want) {
  if (JSON.stringify(got) === JSON.stringify(want)) console.log(`ok - ${what}`);
  else { failed++; console.log(`FAIL - ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); }
}

export function finish() {
  console.log(`${failed === 0 ? 'all' : failed} ${failed === 0 ? 'passed' : 'failed'}`);
  process.exit(failed === 0 ? 0 : 1);
}
