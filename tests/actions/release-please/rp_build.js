// The real release-please library (npm, the version googleapis/release-please-action v4.1.4 bundles:
// 16.14.1), driven as that action's src/index.ts drives it (GitHub.create, Manifest.fromManifest, then
// releases, then pull requests), but stopping before the GitHub writes: it prints what it would
// release (`buildReleases`) or which release pull requests it would open (`buildPullRequests`, after
// createPullRequests' own "untagged merged release PR" check) as JSON. Every GitHub read goes through
// release-please's own GitHub class to the loopback GitHub stand-in (REST and GraphQL); the Python
// stand-in plays GitHub's part of the writes.
//
// usage: node rp_build.js RELEASE_PLEASE_DIR releases|pull-requests OPTIONS_JSON OUT_FILE
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [rpDir, mode, optionsJson, outFile] = process.argv.slice(2);
  const options = JSON.parse(optionsJson);
  const rp = require(path.join(rpDir, 'build', 'src', 'index.js'));
  const github = await rp.GitHub.create({
    owner: options.owner,
    repo: options.repo,
    token: options.token,
    apiUrl: options.apiUrl,
    graphqlUrl: options.graphqlUrl,
    defaultBranch: options.targetBranch || undefined,
  });
  const manifest = await rp.Manifest.fromManifest(
    github,
    github.repository.defaultBranch,
    options.configFile,
    options.manifestFile,
    {}
  );
  let result;
  if (mode === 'releases') {
    const releases = await manifest.buildReleases();
    result = releases.map(release => ({
      name: release.name,
      tagName: release.tag.toString(),
      sha: release.sha,
      notes: release.notes,
      draft: !!release.draft,
      prerelease: !!release.prerelease,
      // createRelease of the GitHub class creates the tag itself first when this is set (17.x's
      // force-tag-creation); a release-please without that option never sets it
      forceTag: !!release.forceTag,
      path: release.path,
      version: release.tag.version.toString(),
      major: release.tag.version.major,
      minor: release.tag.version.minor,
      patch: release.tag.version.patch,
      prNumber: release.pullRequest.number,
    }));
  } else {
    const candidates = await manifest.buildPullRequests();
    let pending = false;
    for await (const _ of manifest.findMergedReleasePullRequests()) {
      pending = true; // as createPullRequests: untagged merged release PRs outstanding, abort
    }
    result = pending
      ? []
      : candidates.map(pr => ({
          title: pr.title.toString(),
          body: pr.body.toString(),
          headBranchName: pr.headRefName,
          labels: pr.labels,
          draft: pr.draft,
          files: pr.updates.map(update => update.path),
        }));
  }
  fs.writeFileSync(outFile, JSON.stringify(result));
}

main().catch(err => {
  process.stderr.write(`release-please failed: ${err.message}\n`);
  process.exit(1);
});
