/**
 * pul — Progressive Unsupervised Learning (Fan et al., ACM TOMM 2018) for person re-identification.
 *
 * The public library API: everything the `pul` CLI does is available from here, and the CLI imports
 * nothing else. Groups, in the order data flows (README "Library API"): errors and progress, backend,
 * data sets, models, features, clustering, selection, training, checkpoints, evaluation, configuration,
 * the PUL pipeline. Internals (kernels, Lloyd's loop, loaders per layout, stage plumbing) are not exported.
 */

// errors, randomness, progress
export { PulError, isPulError, exitCodeFor } from './core/errors.js';
export type { PulErrorCode, ErrorLocation } from './core/errors.js';
export { Rng, deriveSeed } from './core/random.js';
export { OUTPUT_MARKER, prepareOutput, commitOutputDir, claimOutputDir, readOutputMarker, legacyFiles } from './core/output-dir.js';
export type { OutputKind, OutputMarker, OutputInput, OutputRequest, PreparedOutput } from './core/output-dir.js';
export { LOCK_FILE, lockDir } from './core/dir-lock.js';
export type { DirLock } from './core/dir-lock.js';
export { silentProgress, streamProgress } from './core/progress.js';
export type { ProgressEvent, ProgressSink } from './core/progress.js';
export { PACKAGE_VERSION } from './core/version.js';

// backend
export { tf } from './backend/tf.js';
export { selectBackend, selectClusteringBackend, currentBackend, parseBackendChoice, BACKEND_NAMES } from './backend/select-backend.js';
export type { BackendName, BackendChoice, BackendInfo, BackendAttempt } from './backend/select-backend.js';
export { describeBackend } from './backend/describe-backend.js';

// data sets
export { SPLITS, DATASET_FORMATS, samplesOf, heldOutSamples } from './datasets/sample.js';
export type { Sample, Split, Dataset, DatasetFormat } from './datasets/sample.js';
export { loadDataset, detectFormat, parseDatasetFormat, parseClassList } from './datasets/load-dataset.js';
export type { LoadDatasetOptions } from './datasets/load-dataset.js';
export { FMNIST_DISJOINT_SOURCE_CLASSES, FMNIST_DISJOINT_TARGET_CLASSES } from './datasets/idx.js';
export { ImageReader, defaultNormalization, IMAGENET_MEAN, IMAGENET_STD } from './datasets/images.js';
export type { ImageSpec, Normalization } from './datasets/images.js';
export { augmentImage, validateAugment, AUGMENTS, AUGMENT_NAMES, PUL_KERAS_AUGMENT, REID_AUGMENT } from './datasets/augment.js';
export type { AugmentOptions, AugmentName } from './datasets/augment.js';
export { summarizeDataset, datasetWarnings, checkImages, screenImages, corruptImagesError } from './datasets/summary.js';
export type { DatasetSummary, SplitSummary, CheckReport, BadImagePolicy, ScreenedSamples } from './datasets/summary.js';
export { generateSyntheticReid, ensureSyntheticReid } from './datasets/synthetic-reid.js';
export { createSampler, identityGroups, identitySampler, shuffledOrder, drawsIdentities, drawInverseFrequency, SAMPLER_NAMES } from './datasets/samplers.js';
export type { Sampler, SamplerName, SamplerOptions, IdentitySamplerOptions } from './datasets/samplers.js';
export type { SyntheticReidOptions, SyntheticReidReport } from './datasets/synthetic-reid.js';

// models
export { buildModel, replaceClassifier, countTrainableParams, disposeModel, MODEL_PRESETS, ARCHITECTURES } from './model/build-model.js';
export type { ModelSpec, ReidModel, Architecture, ModelPresetName } from './model/build-model.js';
export { modelSpecFor, LAYERS_MODEL_PREFIX } from './model/model-choice.js';
export type { ModelChoice } from './model/model-choice.js';
export { gemPool, gemPooling, type GemOptions } from './model/gem-pooling.js';
export { forwardTraining } from './model/training-forward.js';
export { CLASSIFIER_INITS } from './model/initializers.js';
export type { ClassifierInit, InitKind } from './model/initializers.js';
export { fileIOHandler, loadLayersModelFromDir, MODEL_JSON, WEIGHTS_BIN } from './model/model-io.js';

// features (interchange: features.npy + index.csv)
export { featureMatrix, l2Normalize } from './features/feature-matrix.js';
export type { FeatureMatrix } from './features/feature-matrix.js';
export { readNpy, writeNpy, readFeatureFolder, writeFeatureFolder, writeFeatureFiles, FEATURES_FILE, INDEX_FILE } from './features/features-npy.js';
export type { IndexRow, IndexSplit, FeatureFolder } from './features/features-npy.js';
export { CODES_FILE, CODES_FORMAT_VERSION, codeBit, decodeCodes, emptyCodes, encodeCodes, packSigns, readCodeFolder, readCodes, writeCodes } from './features/binary-codes.js';
export { MAX_HASH_BITS, MIN_HASH_BITS, hashBitsProblem } from './model/hash-bits.js';
export type { PackedCodes } from './features/binary-codes.js';
export { extractFeatures, extractBatchSize } from './features/extract-features.js';
export type { ExtractOptions } from './features/extract-features.js';
export { extractFeatureFolder } from './features/extract-folder.js';
export { fitPca, projectPca } from './features/pca.js';
export { pixelFeatures } from './features/pixel-features.js';
export type { Pca, PcaOptions } from './features/pca.js';

// clustering
export { kmeans } from './clustering/kmeans.js';
export { miniBatchKMeans } from './clustering/minibatch-kmeans.js';
export type { MiniBatchOptions } from './clustering/minibatch-kmeans.js';
export { clustersFor } from './clustering/clustering.js';
export type { Clustering, KMeansOptions, KMeansInit } from './clustering/clustering.js';
export { writeClusterFiles, readClusterFiles, ASSIGNMENTS_FILE, CENTROIDS_FILE } from './clustering/cluster-files.js';
export type { ClusterFiles } from './clustering/cluster-files.js';
export { jaccardDistances } from './clustering/k-reciprocal-jaccard.js';
export type { JaccardOptions, JaccardDistances } from './clustering/k-reciprocal-jaccard.js';
export type { SparseDistances } from './clustering/sparse-distances.js';
export { dbscan } from './clustering/dbscan.js';
export type { DbscanOptions } from './clustering/dbscan.js';
export { clusterByDensity } from './clustering/density-clustering.js';
export type { DensityOptions, DensityClustering, DensitySeconds } from './clustering/density-clustering.js';

// selection
export { selectReliable } from './selection/select-reliable.js';
export { selectDenseClusters } from './selection/select-dense.js';
export type { DenseSelectionOptions, DenseSelection, DenseClusters } from './selection/select-dense.js';
export { SELECTION_ANCHORS, SELECTION_SCOPES } from './selection/selection.js';
export type { Selection, SelectionRule, SelectionAnchor, SelectionScope } from './selection/selection.js';
export { lambdaAt, validateLambdaSchedule, AUTHORS_LAMBDA } from './selection/lambda-schedule.js';
export type { LambdaSchedule } from './selection/lambda-schedule.js';
export { adjustedRandIndex, describeChange, selectionChange, shouldStop, validateStopRule } from './selection/stop-rule.js';
export type { LabelledRows, SelectionChange, StopRule, StopDecision } from './selection/stop-rule.js';
export { selectionPrecision } from './selection/selection-precision.js';
export { writeSelectionFile, readSelectionFile, SELECTION_FILE } from './selection/selection-file.js';

// losses
export { crossEntropy } from './losses/cross-entropy.js';
export type { CrossEntropyOptions } from './losses/cross-entropy.js';
export { clusterLoss } from './losses/cluster-loss.js';
export type { LossValue } from './losses/loss-value.js';
export type { TripletMargin } from './losses/triplet-margin.js';
export { contrastiveLoss } from './losses/contrastive.js';
export type { ContrastiveOptions } from './losses/contrastive.js';
export { tripletBatchHard } from './losses/triplet-batch-hard.js';
export type { TripletBatchHardOptions } from './losses/triplet-batch-hard.js';
export { tripletBatchAll } from './losses/triplet-batch-all.js';
export type { TripletBatchAllOptions, TripletBatchAllValue } from './losses/triplet-batch-all.js';
export { tripletSoftmaxWeighted } from './losses/triplet-softmax-weighted.js';
export type { TripletSoftmaxWeightedOptions } from './losses/triplet-softmax-weighted.js';
export { tripletRandom } from './losses/triplet-random.js';
export type { TripletRandomOptions } from './losses/triplet-random.js';
export { liftedStructuredLoss } from './losses/lifted-structured.js';
export type { LiftedOptions } from './losses/lifted-structured.js';
export { nPairLoss } from './losses/n-pair.js';
export type { NPairOptions } from './losses/n-pair.js';
export { centerLoss, updateCentres } from './losses/center-loss.js';
export { clusterMemoryLoss, updateClusterMemory, type ClusterMemoryOptions } from './losses/cluster-memory.js';
export type { CentreUpdateOptions } from './losses/center-loss.js';
export { globalLoss } from './losses/global-loss.js';
export type { GlobalLossOptions } from './losses/global-loss.js';
export { hashingLoss } from './losses/hashing.js';
export type { HashingLossOptions } from './losses/hashing.js';

// training
export { Trainer } from './training/train.js';
export type { TrainOptions, TrainContext, EpochRecord, TrainerState, NamedTensor } from './training/train.js';
export { learningRateAt, lrScheduleOf, OPTIMIZER_TYPES, LR_SCHEDULE_TYPES } from './training/optimizer.js';
export type { OptimizerOptions, LrSchedule } from './training/optimizer.js';
export { datasetBatchSource } from './training/batch-source.js';
export { Objective, LOSSES, LOSS_NAMES, parseLossSpec, formatLossSpec, resolveLossSpec, lossNeeds, lossBatchStructure, checkSamplerFeed, isObjectiveState } from './training/objective.js';
export type { LossName, LossTerm, LossEntry, LossNeed, LossInputs, LossContext, BatchStructure, ObjectiveOptions, NamedState } from './training/objective.js';
export type { BatchSource, TrainBatch, DatasetBatchOptions } from './training/batch-source.js';
export { closedSetAccuracy } from './training/closed-set-accuracy.js';

// smart mining (Harwood et al. 2017): neighbours over the whole training set, mined batches, adaptive controller
export { findNeighbours, EXACT_MAX_ROWS } from './mining/find-neighbours.js';
export type { NeighbourSearch } from './mining/find-neighbours.js';
export type { Neighbours, NeighbourMethod, NeighbourOptions } from './mining/neighbours.js';
export { mineTriplets } from './mining/mine-triplets.js';
export type { MiningTable, MiningStats } from './mining/mine-triplets.js';
export { defaultControllerOptions, updateController } from './mining/controller.js';
export type { ControllerOptions, ControllerState } from './mining/controller.js';
export { smartMiningBatchSource, smartMiningSteps } from './mining/smart-mining-source.js';
export type { SmartMiningOptions, SmartMiningSignal, SmartMiningSource, SmartMiningState, RefreshRecord } from './mining/smart-mining-source.js';
export { trainSupervised } from './pipeline/train-supervised.js';
export type { SupervisedTrainingOptions, SupervisedTrainingResult } from './pipeline/train-supervised.js';

// checkpoints
export { CHECKPOINT_FORMAT_VERSION } from './checkpoints/checkpoint.js';
export type { Checkpoint, CheckpointManifest } from './checkpoints/checkpoint.js';
export { saveCheckpoint } from './checkpoints/save-checkpoint.js';
export type { SaveCheckpointInput } from './checkpoints/save-checkpoint.js';
export { readCheckpoint, loadCheckpoint, loadOptimizerState } from './checkpoints/load-checkpoint.js';
export type { ExpectedModel, LoadedCheckpoint } from './checkpoints/load-checkpoint.js';
export { writeLatest, resolveLatest, LATEST_JSON } from './checkpoints/latest.js';
export { describeCheckpoint, formatCheckpointDescription } from './checkpoints/describe-checkpoint.js';
export type { CheckpointDescription } from './checkpoints/describe-checkpoint.js';

// evaluation
export { evaluateCodes, evaluateFeatures, labelsOf } from './evaluation/evaluate.js';
export type { EvaluateOptions, LabelledFeatures, LabelledCodes } from './evaluation/evaluate.js';
export { hammingDistanceBlocks, nativeHammingPaths, resolveHammingPath } from './evaluation/hamming.js';
export type { HammingOptions, HammingPath } from './evaluation/hamming.js';
export type { RankOptions, RankReport, ApDefinition } from './evaluation/rank.js';
export type { DistanceMetric } from './evaluation/distance.js';
export type { RerankOptions } from './evaluation/rerank.js';
export { normalizedMutualInformation, adjustedMutualInformation, clusterAccuracy } from './evaluation/cluster-metrics.js';
export { evaluateAllVsAll, evaluateCodesAllVsAll, RECALL_KS } from './evaluation/all-vs-all.js';
export type { AllVsAllOptions, AllVsAllReport } from './evaluation/all-vs-all.js';
export { evaluateModel, rankModel, allVsAllMetrics, modelAllVsAll, classLabels } from './pipeline/evaluate-model.js';
export type { TestMetrics, EvaluateModelOptions, RankModelOptions, AllVsAllMetrics, AllVsAllMetricsOptions } from './pipeline/evaluate-model.js';

// configuration (pipelines/*.json)
export { PipelineConfigSchema } from './config/schema.js';
export type { PipelineConfig, PipelineConfigInput } from './config/schema.js';
export { loadConfig, readConfigFile, parseConfig, mergeConfig, configDifferences, checkResumeSettings, nearestKey } from './config/load-config.js';
export type { ConfigFlag, ConfigFlags } from './config/load-config.js';
export { configJsonSchema, configReference } from './config/config-docs.js';

// the PUL pipeline (pul run)
export { runPul, isRunDir, METRICS_LOG } from './pipeline/run-pul.js';
export type { PulRunOptions, PulRunResult } from './pipeline/run-pul.js';
export { writeSkippedImages, readSkippedImages, SKIPPED_IMAGES } from './pipeline/skipped-images.js';
export { loadRunState, RUN_STATE_FILE } from './pipeline/state.js';
export type { RunState, StageRecord } from './pipeline/state.js';
export { describeRun, formatRunOverview } from './pipeline/describe-run.js';
export type { RunOverview } from './pipeline/describe-run.js';
export { summarizePulRun, formatPulSummary } from './pipeline/run-summary.js';
export type { PulRunSummary, RoundSummary, TestFigures } from './pipeline/run-summary.js';

// reports a person can look at (pul report, pul eval --visrank)
export { buildRunReport, buildCheckpointReport, buildRankedListReport } from './report/build-report.js';
export type { ReportOptions } from './report/build-report.js';
export { renderReportHtml } from './report/render-html.js';
export type { ReportData, ReportImage, RankedSection } from './report/render-html.js';
export { rankedLists } from './report/ranked-lists.js';
export type { RankedLists, RankedQuery, RankedEntry, RankedMark, RankedListOptions } from './report/ranked-lists.js';
export { readRunSeries } from './report/run-series.js';
export type { RunSeries, Series, Point, EpochPoint } from './report/run-series.js';
export { sampleClusters } from './report/cluster-sample.js';
export type { ClusterView, ClusterCard, ClusterSampleOptions } from './report/cluster-sample.js';
export { embeddingMap } from './report/embedding-map.js';
export type { EmbeddingMap } from './report/embedding-map.js';
export { checkReportFile, writeReportFile } from './report/write-report.js';

// gallery index (PostgreSQL + pgvector: PGlite embedded or a server), search and the HTTP API
export { openDatabase, isPostgresUrl, maskUrl } from './index-store/database.js';
export type { Database, Queryable, OpenOptions } from './index-store/database.js';
export { CAMERA_INDEX_MIN_ROWS, GalleryIndex } from './index-store/gallery-index.js';
export type { GalleryRow, IndexMeta, SearchFilter, SearchOptions, Match, GalleryLabels } from './index-store/gallery-index.js';
export { loadIntoIndex, featureSource } from './index-store/index-features.js';
export type { EmbeddingSource, IndexLoadOptions, IndexLoadReport } from './index-store/index-features.js';
export { evaluateIndex } from './index-store/evaluate-index.js';
export type { IndexEvalOptions } from './index-store/evaluate-index.js';
export { shardSamples, parseShard } from './datasets/shard.js';
export type { Shard } from './datasets/shard.js';
export { weightsFingerprint } from './checkpoints/weight-hashes.js';
export { BatchEmbedder } from './features/batch-embedder.js';
export { buildServer } from './serve/server.js';
export type { ServeOptions } from './serve/server.js';
export { DecodePool } from './serve/decode-pool.js';
export { UploadError, decodeUpload, UPLOAD_FORMATS } from './serve/decode-image.js';
export { parseMarketName } from './datasets/market1501.js';
