// Apache Kafka protocol: every request is a size-prefixed message whose header carries api_key,
// api_version, correlation_id and client_id; the response repeats the correlation id. The
// extractor names the first API called and the client id.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** API keys 0..75 in order, from the Kafka protocol guide. */
const APIS = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata',
  'ControlledShutdown', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator', 'JoinGroup', 'Heartbeat',
  'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'SaslHandshake', 'ApiVersions',
  'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'OffsetForLeaderEpoch',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeAcls', 'CreateAcls', 'DeleteAcls', 'DescribeConfigs', 'AlterConfigs',
  'AlterReplicaLogDirs', 'DescribeLogDirs', 'SaslAuthenticate', 'CreatePartitions',
  'CreateDelegationToken', 'RenewDelegationToken', 'ExpireDelegationToken', 'DescribeDelegationToken',
  'DeleteGroups', 'ElectLeaders', 'IncrementalAlterConfigs', 'AlterPartitionReassignments',
  'ListPartitionReassignments', 'OffsetDelete', 'DescribeClientQuotas', 'AlterClientQuotas',
  'DescribeUserScramCredentials', 'AlterUserScramCredentials', 'Vote', 'BeginQuorumEpoch',
  'EndQuorumEpoch', 'DescribeQuorum', 'AlterPartition', 'UpdateFeatures', 'Envelope', 'FetchSnapshot',
  'DescribeCluster', 'DescribeProducers', 'BrokerRegistration', 'BrokerHeartbeat', 'UnregisterBroker',
  'DescribeTransactions', 'ListTransactions', 'AllocateProducerIds', 'ConsumerGroupHeartbeat',
  'ConsumerGroupDescribe', 'ControllerRegistration', 'GetTelemetrySubscriptions', 'PushTelemetry',
  'AssignReplicasToDirs', 'ListClientMetricsResources', 'DescribeTopicPartitions',
];
/** socket.request.max.bytes default (100 MB). */
const MAX_REQUEST = 104_857_600;
/** No API has reached version 20 yet; a larger number means these are not Kafka bytes. */
const MAX_API_VERSION = 20;

interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string;
}

function requestHeader(b: Buffer): RequestHeader | 'need-more' | undefined {
  if (b.length < 4) return 'need-more';
  const size = b.readInt32BE(0);
  if (size < 10 || size > MAX_REQUEST) return undefined;
  if (b.length < 14) return 'need-more';
  const apiKey = b.readInt16BE(4);
  const apiVersion = b.readInt16BE(6);
  const correlationId = b.readInt32BE(8);
  if (apiKey < 0 || apiKey >= APIS.length || apiVersion < 0 || apiVersion > MAX_API_VERSION || correlationId < 0) return undefined;
  // client_id: a nullable string (int16 length), which every client library fills in. Demanding
  // a printable, non-empty one keeps zero-filled headers of other protocols out.
  const idLength = b.readInt16BE(12);
  if (idLength < 1 || 14 + idLength > 4 + size) return undefined;
  if (b.length < 14 + idLength) return 'need-more';
  const clientId = b.toString('latin1', 14, 14 + idLength);
  if (!/^[ -~]+$/.test(clientId)) return undefined;
  return { apiKey, apiVersion, correlationId, clientId };
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (dir === 'c2s') {
    const h = requestHeader(data);
    return h === 'need-more' ? 'need-more' : h === undefined ? 'no' : 'match';
  }
  // A response is only a size and the correlation id of the request it answers.
  if (data.length < 8) return 'need-more';
  const size = data.readInt32BE(0);
  if (size < 4 || size > MAX_REQUEST) return 'no';
  const request = requestHeader(ctx.other);
  if (request === 'need-more') return 'need-more';
  if (request === undefined) return 'no';
  return data.readInt32BE(4) === request.correlationId ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const h = requestHeader(data);
  if (h === 'need-more') return true;
  if (h === undefined) return false;
  meta.kafkaApi = APIS[h.apiKey];
  meta.kafkaApiVersion = h.apiVersion;
  meta.kafkaClientId = h.clientId;
  return false;
}

export const kafka: ProtocolModule = {
  name: 'Kafka',
  transports: ['tcp'],
  ports: [9092, 9093, 9094],
  probe,
  extract,
};
