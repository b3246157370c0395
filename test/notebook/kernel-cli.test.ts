import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkKernel, installKernel, kernelEnv } from '../../src/cli/kernel';

const PYTHON = '/usr/bin/python3';
const hasJupyter = spawnSync(PYTHON, ['-c', 'import jupyter_client'], { stdio: 'ignore' }).status === 0;

describe('dralab kernel', () => {
  it('puts conda libraries first on LD_LIBRARY_PATH and passes the backend through', () => {
    assert.deepEqual(kernelEnv({ CONDA_PREFIX: '/opt/conda/envs/dra', LD_LIBRARY_PATH: '/usr/local/cuda/lib64:/opt/conda/envs/dra/lib', DRALAB_BACKEND: 'node-gpu' }), {
      LD_LIBRARY_PATH: '/opt/conda/envs/dra/lib:/usr/local/cuda/lib64',
      DRALAB_BACKEND: 'node-gpu',
    });
    assert.deepEqual(kernelEnv({}, 'wasm'), { DRALAB_BACKEND: 'wasm' });
    assert.deepEqual(kernelEnv({}), {});
  });

  it('check names the exception of a Python without Jupyter, and an interpreter that has it', { skip: hasJupyter ? false : `${PYTHON} has no jupyter_client (apt-get install jupyter-server)` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-nopy-'));
    try {
      // Stands in for a python3 without Jupyter (pyenv's, say): a traceback on stderr, status 1.
      const fake = join(dir, 'python3');
      writeFileSync(fake, `#!/bin/sh\nprintf 'Traceback (most recent call last):\\n  File "<string>", line 1, in <module>\\nModuleNotFoundError: No module named jupyter_client\\n' >&2\nexit 1\n`);
      chmodSync(fake, 0o755);
      const jupyter = (await checkKernel(fake)).find((r) => r.item === 'jupyter')!;
      assert.equal(jupyter.ok, false);
      assert.equal(jupyter.detail, `${fake} failed: ModuleNotFoundError: No module named jupyter_client (${PYTHON} has Jupyter: dralab kernel install --python ${PYTHON})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('registers tslab under a prefix with node by absolute path and the environment', { skip: hasJupyter ? false : `${PYTHON} has no jupyter_client (apt-get install jupyter-server)` }, () => {
    const prefix = mkdtempSync(join(tmpdir(), 'dralab-kernel-'));
    try {
      const saved = process.env.DRALAB_BACKEND;
      process.env.DRALAB_BACKEND = 'cpu';
      const path = installKernel({ python: PYTHON, prefix });
      if (saved === undefined) delete process.env.DRALAB_BACKEND;
      else process.env.DRALAB_BACKEND = saved;
      assert.equal(path, join(prefix, 'share/jupyter/kernels/tslab/kernel.json'));
      const spec = JSON.parse(readFileSync(path, 'utf8')) as { argv: string[]; env: Record<string, string>; language: string };
      assert.equal(spec.argv[0], process.execPath);
      assert.equal(spec.argv[1], '--require');
      assert.match(spec.argv[2]!, /dist\/src\/notebook\/preload\.js$/);
      assert.match(spec.argv[3]!, /node_modules\/tslab\/bin\/tslab$/);
      assert.deepEqual(spec.argv.slice(4), ['kernel', '--config-path', '{connection_file}']);
      assert.equal(spec.env.DRALAB_BACKEND, 'cpu');
      assert.equal(spec.language, 'typescript');
      assert.equal(existsSync(join(prefix, 'share/jupyter/kernels/jslab')), false, 'only the tslab kernel is registered (tslab\'s installer also writes jslab)');
      const listed = spawnSync(PYTHON, ['-m', 'jupyter_client.kernelspecapp', 'list', '--json'], { encoding: 'utf8', env: { ...process.env, JUPYTER_PATH: join(prefix, 'share/jupyter') } });
      if (listed.status === 0) assert.ok((JSON.parse(listed.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs.tslab, 'jupyter sees the kernel');
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
