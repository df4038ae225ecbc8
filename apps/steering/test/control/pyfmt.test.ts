import { describe, expect, it } from 'vitest';
import { pyFixed, pyFloatRepr } from '../../src/control/index.js';

describe('pyFloatRepr (Python repr of a float)', () => {
  it.each([
    [10001, '10001.0'],
    [1000.0001, '1000.0001'],
    [0.1, '0.1'],
    [-0.01, '-0.01'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [123456789012345.6, '123456789012345.6'],
    [-0, '-0.0'],
    [0, '0.0'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
    [8.399999999999999, '8.399999999999999'],
  ])('%s -> %s', (x, want) => {
    expect(pyFloatRepr(x)).toBe(want);
  });
});

describe('pyFixed (Python format .Nf: exact ties go to even)', () => {
  it.each([
    [130, 1, '130.0'],
    [80.1, 1, '80.1'],
    [50.1, 0, '50'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [0.25, 1, '0.2'],
    [-0.25, 1, '-0.2'],
    [-0.04, 1, '-0.0'],
    [2.675, 2, '2.67'], // not a tie in binary: 2.67499999...
    [1.0005, 3, '1.000'], // 1.000499999... in binary
  ])('%s with %s digits -> %s', (x, d, want) => {
    expect(pyFixed(x, d)).toBe(want);
  });
});
