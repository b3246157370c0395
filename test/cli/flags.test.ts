/**
 * The command line's setting flags are generated from the settings schemas: every
 * setting has a flag named after it, typed and range-checked by the schema, documented
 * with its default and each preset's value; the old short names are aliases; an alias and
 * its flag together are refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addSettingsFlags, givenSettings, kebabCase } from '../../src/cli/flags';
import { SEARCH_FLAGS } from '../../src/cli/search';
import { TRAIN_FLAGS } from '../../src/cli/train';
import { loadDataset } from '../../src/data';
import { datasetOptions, resolveSearchConfig, searchConfigSchema } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import { stepsForEpochs } from '../../src/search/state';
import { trainSettingsSchema } from '../../src/train/config';

function parse(spec: typeof SEARCH_FLAGS, argv: string[]): Record<string, unknown> {
  const command = new Command('t').exitOverride().configureOutput({ writeErr: () => undefined });
  addSettingsFlags(command, spec);
  command.parse(argv, { from: 'user' });
  return givenSettings(command, spec);
}

describe('setting flags generated from the schemas', () => {
  it('every search and training setting has a flag named after it', () => {
    for (const [spec, schema] of [[SEARCH_FLAGS, searchConfigSchema], [TRAIN_FLAGS, trainSettingsSchema]] as const) {
      const command = new Command('t');
      addSettingsFlags(command, spec);
      const longs = new Set(command.options.map((o) => o.long));
      for (const name of Object.keys(schema.shape)) {
        assert.ok(longs.has(`--${kebabCase(name)}`) || longs.has(`--no-${kebabCase(name)}`), `--${kebabCase(name)}`);
      }
    }
  });

  it('a flag gives the setting its typed value; unset flags give nothing (the preset and defaults decide)', () => {
    assert.deepEqual(parse(SEARCH_FLAGS, []), {});
    assert.deepEqual(parse(SEARCH_FLAGS, ['--temperature', '0.25', '--apply-probability', '0.1,0.9', '--ops', 'Rotate,Invert', '--no-learn-mu', '--policy-gradient', 'second', '--random-crop-flip']), {
      temperature: 0.25,
      applyProbability: [0.1, 0.9],
      ops: ['Rotate', 'Invert'],
      learnMu: false,
      policyGradient: 'second',
      randomCropFlip: true,
    });
  });

  it('the short names are aliases of the same settings', () => {
    assert.deepEqual(parse(SEARCH_FLAGS, ['--tau', '0.25', '--lambda', '2', '--no-kl', '--second-order', '--model-lr', '0.05', '--policy-lr', '0.01', '--no-crop-flip', '--no-op-gradients']), {
      temperature: 0.25,
      klWeight: 2,
      useKl: false,
      policyGradient: 'second',
      modelLearningRate: 0.05,
      policyLearningRate: 0.01,
      randomCropFlip: false,
      operatorGradients: false,
    });
    assert.deepEqual(parse(TRAIN_FLAGS, ['--lr', '0.2', '--crop-flip']), { learningRate: 0.2, randomCropFlip: true });
  });

  it('an alias and its flag together are refused, naming both', () => {
    assert.throws(() => parse(SEARCH_FLAGS, ['--temperature', '0.3', '--tau', '0.2']), /--temperature and --tau both set temperature/);
  });

  it('values are checked by the setting\'s own schema, with its range in the message', () => {
    assert.throws(() => parse(SEARCH_FLAGS, ['--temperature', '0']), /--temperature must be a number in \(0, inf\), got '0'/);
    assert.throws(() => parse(SEARCH_FLAGS, ['--tau', '-1']), /--tau must be a number in \(0, inf\), got '-1'/);
    assert.throws(() => parse(SEARCH_FLAGS, ['--dropout', '1']), /--dropout must be a number in \[0, 1\), got '1'/);
    assert.throws(() => parse(SEARCH_FLAGS, ['--seed', '-1']), /--seed must be an integer in \[0, 4294967295\], got '-1'/);
    assert.throws(() => parse(SEARCH_FLAGS, ['--apply-probability', '0.5']), /--apply-probability must be 2 comma-separated numbers/);
    assert.throws(() => parse(SEARCH_FLAGS, ['--magnitude-gradient', 'fancy']), /Allowed choices are straight-through, exact/);
  });

  it('the help shows each default, what a preset changes, and the aliases', () => {
    const command = new Command('t');
    addSettingsFlags(command, SEARCH_FLAGS);
    const help = command.helpInformation().replace(/\s+/g, ' ');
    assert.match(help, /--batch-size <n> batch size of both halves of a step \(default 64; official-cifar: 128\)/);
    assert.match(help, /--temperature <x> Gumbel-softmax temperature tau \(default 0\.5\); alias --tau/);
    assert.match(help, /--no-use-kl .*on by default; this turns it off\); alias --no-kl/);
  });
});

describe('--epochs', () => {
  it('counts the steps from the proxy split without building a search, as a built search counts them', async () => {
    const config = resolveSearchConfig({ data: 'synthetic:colour', trainCount: 200, testCount: 16, batchSize: 16, proxyFraction: 0.5, model: 'tiny-cnn' });
    const dataset = await loadDataset(config.data, datasetOptions(config));
    const search = await DraSearch.create({ ...config, backend: 'wasm' });
    assert.equal(stepsForEpochs(config, dataset, 3), 3 * search.stepsPerEpoch);
    search.dispose();
  });
});
