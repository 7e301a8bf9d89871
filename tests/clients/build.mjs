// Builds the client suite the way an app's toolchain would: relay-compiler (artifacts and
// persisted documents), graphql-codegen (typed documents, persisted documents), then
// `tsc --strict` over everything, generated code included. Output: build/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = (name) => join(here, 'node_modules', '.bin', name);
const step = (what, file, args) => {
  const started = Date.now();
  execFileSync(file, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
  console.error(`build: ${what} (${Date.now() - started} ms)`);
};

// From scratch: relay-compiler persists only the documents it writes artifacts for, into a
// file that must exist, so stale artifacts would leave that file without them.
for (const generated of ['build', 'src/gql', 'src/relay/__generated__']) {
  rmSync(join(here, generated), { recursive: true, force: true });
}
mkdirSync(join(here, 'build'));
writeFileSync(join(here, 'build', 'relay-documents.json'), '{}\n');
step('relay-compiler', bin('relay-compiler'), []);
step('graphql-codegen', process.execPath, [join(here, 'node_modules/@graphql-codegen/cli/esm/bin.js'), '--config', 'codegen.yml', '--silent']);
step('tsc --strict', process.execPath, [join(here, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
