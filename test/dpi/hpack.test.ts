import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, huffmanDecode } from '../../src/dpi/hpack.js';
import { hex } from './helpers.js';

// RFC 7541 appendix C.4: requests with Huffman coding, decoded with one shared dynamic table.
test('HPACK decodes the RFC 7541 C.4 request sequence with its dynamic table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), [
    [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
  ]);
  assert.deepEqual(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')), [
    [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
  ]);
  assert.deepEqual(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')), [
    [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
  ]);
});

test('Huffman decoding rejects padding that is not a prefix of EOS', () => {
  // "a" is 00011 (5 bits): 0x18 pads with zeros instead of ones.
  assert.equal(huffmanDecode(hex('1f')), 'a');
  assert.equal(huffmanDecode(hex('18')), undefined);
});

test('HPACK rejects an index beyond both tables', () => {
  assert.equal(new HpackDecoder().decode(hex('ff00')), undefined);
});
