// The events module's public face, for the agent, the server and `palisade demo`:
//   const events = openEvents(readEventsConfig(text, 'agent.yaml'));   // or new EventPipeline(options, sinks)
//   events.push(makeEvent({ kind: 'violation', ... }));
//   await events.close();

export { EVENT_ACTIONS, EVENT_KINDS, MAX_TEXT, SAMPLE_LIMITS, addPacketSample, eventEndpoint, findingEvent, makeEvent, violationEvent } from './event.js';
export type { Event, EventAction, EventEndpoint, EventFields, EventKind, Finding, PacketSample, PortSet, SampleFrame, Severity, WorkloadLookup } from './event.js';
export { pcapFromSample } from './pcap.js';
export { Aggregator, DEFAULT_AGGREGATE_OPTIONS, eventKey, type AggregateOptions, type AggregateStats } from './aggregate.js';
export { EventPipeline, type PipelineOptions, type PipelineStats } from './pipeline.js';
export { eventJson, type DeliveryStats, type EventSink } from './sink.js';
export { JsonLinesSink, type JsonLinesOptions } from './jsonl-sink.js';
export { SyslogSink, type SyslogOptions, type SyslogSinkOptions } from './syslog-sink.js';
export { FACILITIES, SD_ID, formatSyslog, octetCounted, type Facility } from './syslog.js';
export { WebhookSink, type WebhookOptions, type WebhookStats } from './webhook-sink.js';
export { EventsConfigError, openEvents, openSinks, parseEventsConfig, readEventsConfig, type EventsConfig, type SinkConfig } from './config.js';
