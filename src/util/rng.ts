/**
 * Seeded, serialisable pseudo-random numbers (xoshiro128**, seeded by splitmix32).
 * All randomness of a search (Gumbel noise, gates, magnitudes, signs, batch order,
 * weight init) comes from here, so a saved state resumes the exact same stream.
 */
export type RngState = [number, number, number, number];

/** The largest seed a run takes: the generator is seeded from 32 bits, so larger seeds would alias smaller ones. */
export const MAX_SEED = 2 ** 32 - 1;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * The seed of a named side stream of a run: a hash of the run's seed, the stream's name
 * and an index (e.g. the step). Side streams (display samples) must not draw from the
 * run's main generator, or looking at a run would change it; hashing keeps them apart
 * from the main stream and from each other, whatever the seed.
 */
export function streamSeed(seed: number, name: string, index = 0): number {
  let h = splitmix32(seed)();
  for (let i = 0; i < name.length; i++) h = splitmix32((h ^ name.charCodeAt(i)) >>> 0)();
  return splitmix32((h ^ (index >>> 0)) >>> 0)();
}

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.s.set(seed);
    } else {
      // Refused rather than wrapped: -1 or 2^32 would silently alias another seed.
      if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
      const next = splitmix32(seed);
      for (let i = 0; i < 4; i++) this.s[i] = next();
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** A copy of the generator state; `new Rng(state)` continues the same stream. */
  state(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /** An independent generator derived from this one (advances this one by one draw). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Fills `out` with an inverted-dropout mask: 0 with probability `rate`, else
   * 1 / (1 - rate). Element i takes draw i of this stream and drops when the draw's top
   * 31 bits fall below rate * 2^31, so a mask of a million costs about a millisecond.
   */
  fillDropoutMask(out: Float32Array, rate: number): Float32Array {
    if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
    const threshold = Math.floor(rate * 2147483648);
    const keptBits = new Int32Array(Float32Array.of(1 / (1 - rate)).buffer)[0]!;
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
    // xoshiro128** inlined over a local copy of the state, in signed 32-bit arithmetic
    // throughout (an unsigned value past 2^31 is a double to V8, several times slower),
    // and without a branch: (draw >>> 1) - threshold is negative exactly when the
    // element drops, and its sign bit, spread over the word, masks the kept value's bits.
    let s0 = this.s[0]! | 0, s1 = this.s[1]! | 0, s2 = this.s[2]! | 0, s3 = this.s[3]! | 0;
    for (let i = 0; i < bits.length; i++) {
      const m = Math.imul(s1, 5);
      const draw = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      bits[i] = keptBits & ~(((draw >>> 1) - threshold) >> 31);
    }
    this.s[0] = s0;
    this.s[1] = s1;
    this.s[2] = s2;
    this.s[3] = s3;
    return out;
  }

  /** n uniforms in [low, high). */
  uniform(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  /** n standard normals (Box-Muller). */
  normal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - this.next(); // (0, 1]: log stays finite
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }

  /** n standard Gumbel draws: -log(-log(U)). */
  gumbel(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.min(Math.max(this.next(), 1e-10), 1 - 1e-10);
      out[i] = -Math.log(-Math.log(u));
    }
    return out;
  }

  /** Integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** n signs, each +1 or -1 with probability 1/2. */
  signs(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() < 0.5 ? -1 : 1;
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
