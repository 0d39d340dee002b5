// Oracle for tests/hygiene/test_bump_oracle.py: release-please's own code computes the next
// version of each history. Reads [{messages, version, minorPre, patchPre}] (messages newest first)
// on stdin; prints "RESULT " + [{next, empty}] where empty means release-please opens no release
// (its changelog would be empty). RELEASE_PLEASE_DIR is the installed package's directory.
'use strict';
const path = require('path');
const dir = process.env.RELEASE_PLEASE_DIR;
const src = (name) => require(path.join(dir, 'build', 'src', name));
const {parseConventionalCommits} = src('commit');
const {DefaultVersioningStrategy} = src('versioning-strategies/default');
const {DefaultChangelogNotes} = src('changelog-notes/default');
const {Version} = src('version');

(async () => {
  const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const out = [];
  for (const c of cases) {
    const commits = c.messages.map((message, i) => ({sha: String(i).padStart(40, '0'), message, files: []}));
    const parsed = parseConventionalCommits(commits);
    const strategy = new DefaultVersioningStrategy({
      bumpMinorPreMajor: c.minorPre, bumpPatchForMinorPreMajor: c.patchPre,
    });
    const next = strategy.bump(Version.parse(c.version), parsed).toString();
    const notes = await new DefaultChangelogNotes().buildNotes(parsed, {
      host: 'https://github.com', owner: 'org', repository: 'service', version: next,
      previousTag: 'v' + c.version, currentTag: 'v' + next, targetBranch: 'main', commits,
    });
    // release-please's BaseStrategy skips a release whose notes have at most one line
    out.push({next, empty: notes.split('\n').length <= 1});
  }
  process.stdout.write('\nRESULT ' + JSON.stringify(out) + '\n');
})();
