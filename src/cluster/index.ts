/**
 * `nmflow/cluster`: nmflow on NATS JetStream (issue #14) — the batch least-squares fit whose units are solved by
 * `nmflow worker` processes, and the live-stream stages (a source of record batches on a subject, model revisions in
 * a KV bucket, projection workers). A subpath of its own, so that `import 'nmflow'` does not load the NATS client.
 */
export { ClusterError } from '../errors.js';
export { connectCluster, serverList, type ClusterOptions } from './connect.js';
export { fitOnNats, type ClusterFitOptions, type ClusterSettings, type PassTiming } from './coordinator.js';
export { runWorker, type WorkerOptions } from './worker.js';
export { fromJetStream, type JetStreamSourceOptions } from './jetstream-source.js';
export { chunkMessage, openPublisher, type Publisher, type PublisherOptions } from './stream-publish.js';
export { publishModelFile, publishSnapshots, modelFromBytes, type ModelBucketOptions, type SnapshotPublishOptions } from './model-kv.js';
export { runProjectWorker, type ProjectWorkerOptions, type WorkerReport } from './project-worker.js';
