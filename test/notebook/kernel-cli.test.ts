import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { installKernel, kernelEnv } from '../../src/cli/kernel';

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
      assert.match(spec.argv[1]!, /node_modules\/tslab\/bin\/tslab$/);
      assert.deepEqual(spec.argv.slice(2), ['kernel', '--config-path', '{connection_file}']);
      assert.equal(spec.env.DRALAB_BACKEND, 'cpu');
      assert.equal(spec.language, 'typescript');
      const listed = spawnSync(PYTHON, ['-m', 'jupyter_client.kernelspecapp', 'list', '--json'], { encoding: 'utf8', env: { ...process.env, JUPYTER_PATH: join(prefix, 'share/jupyter') } });
      if (listed.status === 0) assert.ok((JSON.parse(listed.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs.tslab, 'jupyter sees the kernel');
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
