import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ssdp } from '../../../src/dpi/protocols/ssdp.js';
import { ascii, ctx, extracted } from '../helpers.js';

// UPnP Device Architecture 2.0, section 1.3.2: M-SEARCH with HOST, MAN "ssdp:discover", MX, ST.
const search = ascii('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n');
// Section 1.3.3: the unicast answer with ST, USN, LOCATION and SERVER.
const answer = ascii('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.20:8008/ssdp/device-desc.xml\r\nSERVER: Linux/3.8 UPnP/1.0 Chromecast/1.0\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSN: uuid:1234::urn:dial-multiscreen-org:service:dial:1\r\n\r\n');

test('SSDP matches an M-SEARCH', () => {
  assert.equal(ssdp.probe(search, 'c2s', ctx('udp')), 'match');
});

test('SSDP matches a search answer carrying ST and USN', () => {
  assert.equal(ssdp.probe(answer, 's2c', ctx('udp', search)), 'match');
});

test('SSDP rejects an ordinary HTTP request', () => {
  assert.equal(ssdp.probe(ascii('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 'c2s', ctx('udp')), 'no');
});

test('SSDP rejects an M-SEARCH without search headers', () => {
  assert.equal(ssdp.probe(ascii('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n'), 'c2s', ctx('udp')), 'no');
});

test('SSDP extracts the target, server and location of an answer', () => {
  assert.deepEqual(extracted(ssdp, answer, 's2c', ctx('udp')), {
    ssdpTarget: 'urn:dial-multiscreen-org:service:dial:1',
    ssdpServer: 'Linux/3.8 UPnP/1.0 Chromecast/1.0',
    ssdpLocation: 'http://192.168.1.20:8008/ssdp/device-desc.xml',
  });
});
