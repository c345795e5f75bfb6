import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oracleTns } from '../../../src/dpi/protocols/oracle-tns.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

const descriptor = '(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCLPDB1)(CID=(PROGRAM=sqlplus)(HOST=app)(USER=oracle))))';

/**
 * CONNECT: header (length, packet checksum 0, type 1, flags 0, header checksum 0), version 314,
 * compatible 300, service options, SDU 8192, TDU 32767, NT characteristics, line turnaround,
 * value of one, connect data length and offset (34), max receivable data, flags 0x41 0x41.
 */
function connect(data: string): Buffer {
  const fixed = hex('013a 012c 0c41 2000 7fff 4f98 0000 0001 0000 0022 00000000 4141');
  fixed.writeUInt16BE(data.length, 16);
  const h = hex('0000 0000 01 00 0000');
  h.writeUInt16BE(8 + fixed.length + data.length, 0);
  return Buffer.concat([h, fixed, ascii(data)]);
}

const request = connect(descriptor);

test('Oracle TNS matches a CONNECT carrying a connect descriptor', () => {
  assert.equal(oracleTns.probe(request, 'c2s', ctx()), 'match');
});

test('Oracle TNS matches an ACCEPT with a version from the server', () => {
  assert.equal(oracleTns.probe(hex('0020 0000 02 00 0000 013a 0c41 2000 7fff 0100 0000 0020 0000 0000 0000'), 's2c', ctx()), 'match');
});

test('Oracle TNS rejects a CONNECT with an impossible protocol version', () => {
  const bad = Buffer.from(request);
  bad.writeUInt16BE(0x0900, 8);
  assert.equal(oracleTns.probe(bad, 'c2s', ctx()), 'no');
});

test('Oracle TNS rejects an SSH banner', () => {
  assert.equal(oracleTns.probe(ascii('SSH-2.0-OpenSSH_9.2\r\n'), 'c2s', ctx()), 'no');
});

test('Oracle TNS needs more while the CONNECT header is cut', () => {
  assert.equal(oracleTns.probe(request.subarray(0, 20), 'c2s', ctx()), 'need-more');
});

test('Oracle TNS extracts service name and program from the descriptor', () => {
  assert.deepEqual(extracted(oracleTns, request, 'c2s'), { oracleService: 'ORCLPDB1', oracleProgram: 'sqlplus' });
});
