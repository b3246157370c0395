import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { figureToSvg, operatorGallery, sampleGrid, type ImageTrace } from '../../widgets';
import { TINY_PNG } from './fixtures';
import { matchJsonSnapshot, matchSnapshot } from './snapshot';

const samples = {
  original: [TINY_PNG, TINY_PNG, TINY_PNG],
  augmented: [TINY_PNG, TINY_PNG, TINY_PNG],
  ops: [['Rotate', 'Color'], [], ['Invert']],
  magnitudes: [[0.42, 0.1], [], [0.5]],
  width: 2,
  height: 2,
};

describe('sampleGrid', () => {
  it('matches its snapshot (spec and static SVG)', () => {
    const figure = sampleGrid(samples, { columns: 2 });
    matchJsonSnapshot('sample-grid', figure);
    matchSnapshot('sample-grid.svg', figureToSvg(figure));
  });

  it('pairs each original with its augmented image, captioned with ops and magnitudes', () => {
    const figure = sampleGrid(samples, { columns: 2 });
    assert.equal(figure.data.length, 6);
    assert.ok(figure.data.every((t) => t.type === 'image' && t.source === TINY_PNG));
    const captions = figure.layout.annotations!.map((a) => a.text);
    assert.ok(captions.includes('Rotate 0.42<br>Color 0.10'));
    assert.ok(captions.includes('not applied'));
    assert.ok(captions.includes('Invert 0.50'));
    assert.deepEqual(captions.filter((c) => c === 'original' || c === 'augmented'), ['original', 'augmented', 'original', 'augmented']);
    const axes = new Set(figure.data.map((t) => (t as ImageTrace).xaxis));
    assert.equal(axes.size, 6, 'each image has its own axes');
    const svg = figureToSvg(figure);
    assert.equal((svg.match(/<image /g) ?? []).length, 6);
  });

  it('names mismatched inputs', () => {
    assert.throws(() => sampleGrid({ ...samples, augmented: [TINY_PNG] }), /3 original images but 1 augmented/);
    assert.throws(() => sampleGrid({ ...samples, magnitudes: [[0.4], [], [0.5]] }), /sample 0 has 2 ops but 1 magnitudes/);
    assert.throws(() => sampleGrid({ ...samples, original: [], augmented: [], ops: [], magnitudes: [] }), /at least one sample/);
  });
});

describe('operatorGallery', () => {
  const gallery = { original: TINY_PNG, magnitudes: [0, 0.5, 1], rows: [{ op: 'Rotate', images: [TINY_PNG, TINY_PNG, TINY_PNG] }, { op: 'Solarize', images: [TINY_PNG, TINY_PNG, TINY_PNG] }], width: 2, height: 2 };

  it('matches its snapshot (spec and static SVG)', () => {
    const figure = operatorGallery(gallery);
    matchJsonSnapshot('operator-gallery', figure);
    matchSnapshot('operator-gallery.svg', figureToSvg(figure));
  });

  it('shows the original then one image per magnitude for each operator', () => {
    const figure = operatorGallery(gallery);
    assert.equal(figure.data.length, 2 * 4);
    const labels = figure.layout.annotations!.map((a) => a.text);
    assert.deepEqual(labels, ['Rotate', 'Solarize', 'original', 'm = 0.00', 'm = 0.50', 'm = 1.00']);
    assert.throws(() => operatorGallery({ ...gallery, rows: [{ op: 'Rotate', images: [TINY_PNG] }] }), /Rotate has 1 images for 3 magnitudes/);
  });
});
