import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rtsp } from '../../../src/dpi/protocols/rtsp.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 2326: Request-Line = Method SP Request-URI SP RTSP-Version CRLF; CSeq is required.
const options = ascii('OPTIONS rtsp://cam.local:554/stream1 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: LibVLC/3.0\r\n\r\n');
const reply = ascii('RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: GStreamer RTSP server\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n');

test('RTSP matches an OPTIONS request for an rtsp:// URL', () => {
  assert.equal(rtsp.probe(options, 'c2s', ctx()), 'match');
});

test('RTSP matches an RTSP/1.0 status line', () => {
  assert.equal(rtsp.probe(reply, 's2c', ctx()), 'match');
});

test('RTSP rejects an HTTP request', () => {
  assert.equal(rtsp.probe(ascii('OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('RTSP needs more while the request line is open', () => {
  assert.equal(rtsp.probe(ascii('DESCRIBE rtsp://cam/'), 'c2s', ctx()), 'need-more');
});

test('RTSP extracts method, URL and user agent', () => {
  assert.deepEqual(extracted(rtsp, options, 'c2s'), { rtspMethod: 'OPTIONS', rtspUrl: 'rtsp://cam.local:554/stream1', rtspUserAgent: 'LibVLC/3.0' });
});

test('RTSP extracts status and server', () => {
  assert.deepEqual(extracted(rtsp, reply, 's2c'), { rtspStatus: 200, rtspServer: 'GStreamer RTSP server' });
});
