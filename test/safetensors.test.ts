import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/io/safetensors.js';
import { mulberry } from './helpers/rng.js';

/** Build a safetensors file by hand: header object, then raw data bytes. */
function handMade(header: unknown, data: Uint8Array, opts: { lenOverride?: bigint; rawHeader?: string } = {}): Buffer {
  const json = Buffer.from(opts.rawHeader ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.lenOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

/** Independent binary16 decoder: sign · 2^(e−15) · (1 + m/1024), subnormal 2^−14 · m/1024. */
function halfValue(h: number): number {
  const s = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  if (e === 0) return s * Math.pow(2, -14) * (m / 1024);
  return s * Math.pow(2, e - 15) * (1 + m / 1024);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'flowlens-st-'));
}

test('known binary16 and bfloat16 bit patterns', () => {
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0xc000), -2);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.ok(Math.abs(f16BitsToF32(0x0001) - 5.96e-8) < 1e-10);
  assert.equal(f16BitsToF32(0x0400), 2 ** -14);
  assert.equal(f16BitsToF32(0x7c00), Infinity);
  assert.equal(f16BitsToF32(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
  assert.equal(f32ToF16Bits(0.1), 0x2e66);
  assert.equal(f32ToF16Bits(65520), 0x7c00); // halfway to the next (missing) value rounds to even: Infinity
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(1e6), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.equal(f32ToF16Bits(2 ** -25), 0); // tie between 0 and the smallest subnormal → even (0)
  assert.equal(f32ToF16Bits(2 ** -25 * 1.0001), 1);
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 2); // tie between 1 and 2 (× 2^-24) → even (2)
  const nan = f32ToF16Bits(NaN);
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x3ff, 0);
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0xc000), -2);
  assert.equal(bf16BitsToF32(0x7f80), Infinity);
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(-2), 0xc000);
  // 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7 → even (1); 1 + 3·2^-8 → up to 1 + 2^-6
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80);
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
});

test('f16 decoding matches an independent decoder on all 65536 patterns', () => {
  for (let h = 0; h < 65536; h++) {
    const a = f16BitsToF32(h);
    const b = halfValue(h);
    if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `0x${h.toString(16)}`);
    else assert.ok(Object.is(a, b) || (a === 0 && b === 0), `0x${h.toString(16)}: ${a} vs ${b}`);
  }
});

test('f32 → f16 rounds to the nearest half, ties to even (brute force)', () => {
  // all finite non-negative halves, sorted by value (bit order = value order for positives)
  const halves: number[] = [];
  for (let h = 0; h < 0x7c00; h++) halves.push(halfValue(h));
  const nearest = (x: number): number => {
    // binary search, then check neighbours; ties → even bit pattern
    const ax = Math.abs(Math.fround(x));
    if (ax >= 65520) return 0x7c00;
    let lo = 0;
    let hi = halves.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((halves[mid] as number) <= ax) lo = mid;
      else hi = mid;
    }
    const dl = ax - (halves[lo] as number);
    const dh = (halves[hi] as number) - ax;
    if (dl < dh) return lo;
    if (dh < dl) return hi;
    return lo % 2 === 0 ? lo : hi;
  };
  const rng = mulberry(7);
  const xs: number[] = [];
  for (let i = 0; i < 4000; i++) xs.push((rng() - 0.5) * 2 ** Math.floor(rng() * 44 - 28));
  // exact midpoints between consecutive halves, incl. subnormals
  for (const h of [0, 1, 2, 3, 0x3ff, 0x400, 0x3c00, 0x3c01, 0x7bfe]) xs.push((halfValue(h) + halfValue(h + 1)) / 2);
  for (const x of xs) {
    const bits = f32ToF16Bits(x);
    const expect = nearest(x) | (Math.fround(x) < 0 || Object.is(x, -0) ? 0x8000 : 0);
    assert.equal(bits, expect, `x=${x}: got 0x${bits.toString(16)}, want 0x${expect.toString(16)}`);
  }
});

test('F32 round trip is exact; F16/BF16 within their precision; header is 8-aligned', () => {
  const dir = tmp();
  try {
    const rng = mulberry(1);
    const a = Float32Array.from({ length: 6 * 5 }, () => (rng() - 0.5) * 10);
    const b = Float32Array.from({ length: 7 }, () => (rng() - 0.5) * 1e-3);
    const scalar = Float32Array.of(3.25);
    const tensors = {
      'encoder.w': { shape: [6, 5], data: a },
      bias: { shape: [7], data: b },
      s: { shape: [], data: scalar },
      empty: { shape: [0, 3], data: new Float32Array(0) },
    };
    const p = join(dir, 'm.safetensors');
    writeSafetensors(p, tensors, { dtype: 'F32', metadata: { format: 'pt' } });
    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    assert.deepEqual(header.__metadata__, { format: 'pt' });
    assert.deepEqual(header['encoder.w'].shape, [6, 5]);
    assert.equal(header['encoder.w'].dtype, 'F32');
    // the bytes of a tensor are its little-endian float32 values
    const [beg] = header['encoder.w'].data_offsets;
    assert.equal(bytes.readFloatLE(8 + n + beg + 4 * 7), a[7]);
    const back = readSafetensors(p);
    assert.deepEqual([...back.keys()].sort(), ['bias', 'empty', 'encoder.w', 's']);
    assert.deepEqual(back.get('encoder.w')?.data, a);
    assert.deepEqual(back.get('encoder.w')?.shape, [6, 5]);
    assert.deepEqual(back.get('bias')?.data, b);
    assert.deepEqual(back.get('s')?.shape, []);
    assert.equal(back.get('s')?.data[0], 3.25);
    assert.equal(back.get('empty')?.data.length, 0);
    assert.deepEqual(readSafetensorsHeader(p).metadata, { format: 'pt' });
    // the same from a buffer, and only some names
    assert.deepEqual(readSafetensors(bytes, { names: ['bias'] }).get('bias')?.data, b);
    assert.throws(() => readSafetensors(p, { names: ['nope'] }), /no tensor "nope"/);

    for (const [dtype, relTol] of [
      ['F16', 2 ** -11],
      ['BF16', 2 ** -8],
    ] as const) {
      const q = join(dir, `${dtype}.safetensors`);
      writeSafetensors(q, { 'encoder.w': { shape: [6, 5], data: a } }, { dtype });
      const t = readSafetensors(q).get('encoder.w');
      assert.equal(t?.dtype, dtype);
      assert.equal(readFileSync(q).length, 8 + readSafetensorsHeader(q).headerLength + 2 * a.length);
      a.forEach((x, i) => assert.ok(Math.abs((t?.data[i] as number) - x) <= Math.abs(x) * relTol, `${dtype} ${x} → ${t?.data[i]}`));
    }
    // no temp files are left behind
    assert.deepEqual(readdirSync(dir).sort(), ['BF16.safetensors', 'F16.safetensors', 'm.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reads hand-made F16, BF16, F64, I64, I32 files with known bit patterns', () => {
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]).buffer);
  const t1 = readSafetensors(handMade({ h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] } }, f16)).get('h');
  assert.deepEqual(t1?.shape, [2, 2]);
  assert.deepEqual([...(t1?.data ?? [])], [1, -2, 65504, Math.fround(2 ** -24)]);
  const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc000]).buffer);
  assert.deepEqual([...(readSafetensors(handMade({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, bf)).get('b')?.data ?? [])], [1, -2]);
  const mixed = new Uint8Array(8 + 16 + 8);
  const dv = new DataView(mixed.buffer);
  dv.setFloat64(0, 0.5, true);
  dv.setBigInt64(8, -7n, true);
  dv.setBigInt64(16, 512n, true);
  dv.setInt32(24, -3, true);
  dv.setInt32(28, 9, true);
  const m = readSafetensors(
    handMade(
      {
        __metadata__: { format: 'pt' },
        d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
        ids: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
        i: { dtype: 'I32', shape: [2], data_offsets: [24, 32] },
      },
      mixed,
    ),
  );
  assert.deepEqual([...(m.get('d')?.data ?? [])], [0.5]);
  assert.deepEqual([...(m.get('ids')?.data ?? [])], [-7, 512]);
  assert.deepEqual([...(m.get('i')?.data ?? [])], [-3, 9]);
  // header padded with trailing spaces is fine
  const padded = handMade(null, new Uint8Array(4), { rawHeader: JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }) + '     ' });
  assert.deepEqual(readSafetensors(padded).get('x')?.shape, [1]);
});

test('malformed files throw errors naming the file and the problem', () => {
  const dir = tmp();
  try {
    const file = (name: string, bytes: Uint8Array): string => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const cases: [string, Uint8Array, RegExp][] = [
      ['short.safetensors', new Uint8Array(5), /short\.safetensors.*shorter than the 8-byte/],
      ['biglen.safetensors', handMade(ok, new Uint8Array(8), { lenOverride: 10_000n }), /biglen\.safetensors.*header length 10000 is beyond the file size/],
      ['notjson.safetensors', handMade(null, new Uint8Array(0), { rawHeader: '{"w": nope}' }), /notjson\.safetensors.*not valid JSON/],
      ['array.safetensors', handMade([1, 2], new Uint8Array(0)), /array\.safetensors.*not a JSON object/],
      [
        'dtype.safetensors',
        handMade({ w: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /dtype\.safetensors.*"w".*unknown dtype "Q7"/,
      ],
      [
        'f8.safetensors',
        handMade({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)),
        /f8\.safetensors.*unsupported dtype "F8_E4M3"/,
      ],
      ['oob.safetensors', handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, new Uint8Array(16)), /oob\.safetensors.*"w".*out of bounds/],
      [
        'overlap.safetensors',
        handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
        /overlap\.safetensors.*"a".*"b".*overlapping/,
      ],
      [
        'size.safetensors',
        handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(12)),
        /size\.safetensors.*"w".*span 8 bytes but shape \[3\] × F32 needs 12/,
      ],
      ['f16size.safetensors', handMade({ w: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 4] } }, new Uint8Array(8)), /needs 8/],
      [
        'truncated.safetensors',
        handMade(ok, new Uint8Array(8)).subarray(0, 8 + JSON.stringify(ok).length + 5),
        /truncated\.safetensors.*out of bounds.*truncated/,
      ],
      ['badshape.safetensors', handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)), /badshape.*shape/],
      ['badoff.safetensors', handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), /badoff.*data_offsets/],
      ['meta.safetensors', handMade({ __metadata__: { a: 1 } }, new Uint8Array(0)), /meta\.safetensors.*__metadata__/],
    ];
    for (const [name, bytes, re] of cases) {
      const p = file(name, bytes);
      assert.throws(() => readSafetensors(p), re, name);
      assert.throws(() => readSafetensorsHeader(p), re, name);
    }
    assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /not found.*missing\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writer rejects bad tensors and leaves nothing behind', () => {
  const dir = tmp();
  try {
    const p = join(dir, 'bad.safetensors');
    assert.throws(() => writeSafetensors(p, { w: { shape: [2, 3], data: new Float32Array(5) } }), /"w" has 5 values for shape \[2,3\]/);
    assert.throws(() => writeSafetensors(p, { w: { shape: [2], data: new Float32Array(2) } }, { dtype: 'I8' as never }), /dtype/);
    assert.throws(() => writeSafetensors(join(dir, 'nodir', 'x.safetensors'), {}), /nodir/);
    assert.equal(existsSync(p), false);
    assert.deepEqual(readdirSync(dir), []);
    // overwriting an existing file replaces it whole
    writeSafetensors(p, { w: { shape: [1], data: Float32Array.of(1) } });
    writeSafetensors(p, { v: { shape: [2], data: Float32Array.of(2, 3) } });
    assert.deepEqual([...readSafetensors(p).keys()], ['v']);
    assert.deepEqual(readdirSync(dir), ['bad.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
