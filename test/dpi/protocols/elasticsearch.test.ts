import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticsearch } from '../../../src/dpi/protocols/elasticsearch.js';
import { ascii, ctx, extracted } from '../helpers.js';

const search = ascii('POST /logs-2024.06/_search?size=10 HTTP/1.1\r\nHost: es:9200\r\nContent-Type: application/json\r\n\r\n{}');
const root = ascii('GET / HTTP/1.1\r\nHost: es:9200\r\n\r\n');
const page = ascii('GET /index.html HTTP/1.1\r\nHost: www\r\n\r\n');
const html = ascii('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>');

test('Elasticsearch refines HTTP', () => {
  assert.equal(elasticsearch.refines, 'HTTP');
});

test('Elasticsearch matches a request for the _search endpoint', () => {
  assert.equal(elasticsearch.probe(search, 'c2s', ctx()), 'match');
});

test('Elasticsearch matches a response carrying X-elastic-product', () => {
  const response = ascii('HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json\r\n\r\n');
  assert.equal(elasticsearch.probe(response, 's2c', ctx('tcp', root)), 'match');
});

test('Elasticsearch matches the root tagline of an older server', () => {
  const response = ascii('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"version":{"number":"6.8.23"},"tagline" : "You Know, for Search"}');
  assert.equal(elasticsearch.probe(response, 's2c', ctx('tcp', root)), 'match');
});

test('Elasticsearch rejects an ordinary web page exchange', () => {
  assert.equal(elasticsearch.probe(html, 's2c', ctx('tcp', page)), 'no');
});

test('Elasticsearch needs more while the response has not arrived', () => {
  assert.equal(elasticsearch.probe(root, 'c2s', ctx()), 'need-more');
});

test('Elasticsearch extracts endpoint and index from the request path', () => {
  assert.deepEqual(extracted(elasticsearch, search, 'c2s'), { elasticsearchEndpoint: '_search', elasticsearchIndex: 'logs-2024.06' });
});

test('Elasticsearch extracts the server version from the root document', () => {
  const response = ascii('HTTP/1.1 200 OK\r\n\r\n{"version" : {"number" : "8.13.0"}}');
  assert.deepEqual(extracted(elasticsearch, response, 's2c'), { elasticsearchVersion: '8.13.0' });
});
