import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drda } from '../../../src/dpi/protocols/drda.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** EBCDIC (CCSID 37) for the upper-case letters and digits used below. */
function ebcdic(s: string): Buffer {
  return Buffer.from([...s].map((c) => {
    const x = c.charCodeAt(0);
    if (x >= 0x30 && x <= 0x39) return 0xf0 + x - 0x30;
    if (x >= 0x41 && x <= 0x49) return 0xc1 + x - 0x41;
    if (x >= 0x4a && x <= 0x52) return 0xd1 + x - 0x4a;
    return 0xe2 + x - 0x53;
  }));
}

/** A DDM parameter: length (4 + data), code point, data. */
function param(codePoint: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(4 + data.length, 0);
  h.writeUInt16BE(codePoint, 2);
  return Buffer.concat([h, data]);
}

/** DSS: length, magic 0xD0, format (0x01 request / 0x02 reply, 0x40 chained), correlation 1, then the DDM object. */
function dss(format: number, codePoint: number, params: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(10 + params.length, 0);
  h[2] = 0xd0;
  h[3] = format;
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(4 + params.length, 6);
  h.writeUInt16BE(codePoint, 8);
  return Buffer.concat([h, params]);
}

// EXCSAT (0x1041) with EXTNAM (0x115E) and SRVRLSLV (0x115A); ACCSEC (0x106D) with RDBNAM (0x2110).
const excsat = dss(0x41, 0x1041, Buffer.concat([param(0x115e, ebcdic('JCC04200')), param(0x115a, ebcdic('SQL11055'))]));
const accsec = dss(0x01, 0x106d, Buffer.concat([param(0x11a2, hex('0003')), param(0x2110, ebcdic('SAMPLE'))]));

test('DRDA matches an EXCSAT request', () => {
  assert.equal(drda.probe(excsat, 'c2s', ctx()), 'match');
});

test('DRDA matches an EXCSATRD reply', () => {
  assert.equal(drda.probe(dss(0x02, 0x1443, param(0x116d, ebcdic('DB2'))), 's2c', ctx()), 'match');
});

test('DRDA rejects a DSS whose DDM length does not fill it', () => {
  const bad = Buffer.from(excsat);
  bad.writeUInt16BE(8, 6);
  assert.equal(drda.probe(bad, 'c2s', ctx()), 'no');
});

test('DRDA rejects an HTTP request', () => {
  assert.equal(drda.probe(ascii('GET / HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('DRDA needs more before the code point', () => {
  assert.equal(drda.probe(excsat.subarray(0, 6), 'c2s', ctx()), 'need-more');
});

test('DRDA extracts client name, release and database name from EBCDIC parameters', () => {
  assert.deepEqual(extracted(drda, Buffer.concat([excsat, accsec]), 'c2s'), {
    drdaClientName: 'JCC04200',
    drdaClientRelease: 'SQL11055',
    dbName: 'SAMPLE',
  });
});
