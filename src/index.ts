/**
 * pul — Progressive Unsupervised Learning (Fan et al., ACM TOMM 2018) for person re-identification.
 * The library API: everything the CLI does is available from here.
 */
export { PulError, isPulError, exitCodeFor } from './core/errors.js';
export type { PulErrorCode, ErrorLocation } from './core/errors.js';
export { Rng } from './core/random.js';
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic, readJson } from './core/atomic-fs.js';
export { OUTPUT_MARKER, prepareOutput, commitOutputDir, claimOutputDir, readOutputMarker, legacyFiles } from './core/output-dir.js';
export type { OutputKind, OutputMarker, OutputInput, OutputRequest, PreparedOutput } from './core/output-dir.js';
export { LOCK_FILE, lockDir } from './core/dir-lock.js';
export type { DirLock } from './core/dir-lock.js';
export { formatCsv, parseCsv } from './core/csv.js';
export type { CsvRecord } from './core/csv.js';
export { silentProgress, streamProgress } from './core/progress.js';
export type { ProgressEvent, ProgressSink } from './core/progress.js';
export { PACKAGE_VERSION } from './core/version.js';

export { tf } from './backend/tf.js';
export { selectBackend, selectClusteringBackend, currentBackend, parseBackendChoice, BACKEND_NAMES } from './backend/select-backend.js';
export type { BackendName, BackendChoice, BackendInfo, BackendAttempt } from './backend/select-backend.js';
export { describeBackend } from './backend/describe-backend.js';
export { setColumnBudget } from './backend/kernels/column-budget.js';

// features (interchange)
export { featureMatrix, l2Normalize, assertFinite, selectRows } from './features/feature-matrix.js';
export type { FeatureMatrix } from './features/feature-matrix.js';
export { encodeNpy, decodeNpy, readNpy, writeNpy, parseIndexCsv, formatIndexCsv, readFeatureFolder, writeFeatureFolder, writeFeatureFiles, FEATURES_FILE, INDEX_FILE } from './features/features-npy.js';
export type { IndexRow, IndexSplit, FeatureFolder } from './features/features-npy.js';
export { fitPca, projectPca } from './features/pca.js';
export type { Pca, PcaOptions } from './features/pca.js';

// clustering
export { kmeans, initialCentres } from './clustering/kmeans.js';
export { miniBatchKMeans } from './clustering/minibatch-kmeans.js';
export type { MiniBatchOptions } from './clustering/minibatch-kmeans.js';
export { kmeansPlusPlus } from './clustering/kmeans-plusplus.js';
export { lloyd } from './clustering/lloyd.js';
export type { LloydResult } from './clustering/lloyd.js';
export { validateKMeansInput, inertiaOf, rowSquaredNorms } from './clustering/clustering.js';
export type { Clustering, KMeansOptions, KMeansInit } from './clustering/clustering.js';
export { writeClusterFiles, readClusterFiles, ASSIGNMENTS_FILE, CENTROIDS_FILE } from './clustering/cluster-files.js';
export type { ClusterFiles } from './clustering/cluster-files.js';

// selection
export { selectReliable } from './selection/select-reliable.js';
export { SELECTION_ANCHORS, SELECTION_SCOPES } from './selection/selection.js';
export type { Selection, SelectionRule, SelectionAnchor, SelectionScope } from './selection/selection.js';
export { lambdaAt, assertLambda, validateLambdaSchedule, AUTHORS_LAMBDA } from './selection/lambda-schedule.js';
export type { LambdaSchedule } from './selection/lambda-schedule.js';
export { adjustedRandIndex, describeChange, selectionChange, shouldStop, validateStopRule } from './selection/stop-rule.js';
export type { LabelledRows, SelectionChange, StopRule, StopDecision } from './selection/stop-rule.js';
export { selectionPrecision } from './selection/selection-precision.js';
export { writeSelectionFile, readSelectionFile, SELECTION_FILE } from './selection/selection-file.js';

// evaluation
export { distanceBlocks } from './evaluation/distance.js';
export type { DistanceMetric, DistanceBlock, DistanceOptions } from './evaluation/distance.js';
export { RankAccumulator } from './evaluation/rank.js';
export type { RankOptions, RankReport, ApDefinition, Labels } from './evaluation/rank.js';
export { evaluateFeatures, labelsOf } from './evaluation/evaluate.js';
export type { EvaluateOptions, LabelledFeatures } from './evaluation/evaluate.js';
export { normalizedMutualInformation, adjustedMutualInformation, clusterAccuracy } from './evaluation/cluster-metrics.js';
export { rerankedDistanceBlocks } from './evaluation/rerank.js';
export type { RerankOptions } from './evaluation/rerank.js';

// datasets
export { SPLITS, DATASET_FORMATS, samplesOf, parseIdxRef } from './datasets/sample.js';
export type { Sample, Split, Dataset, DatasetFormat } from './datasets/sample.js';
export { ImageReader, decodeImageBytes, normalizeInto, normalizationStats, resizeBilinearGrey, IMAGENET_MEAN, IMAGENET_STD } from './datasets/images.js';
export type { ImageSpec, Normalization } from './datasets/images.js';
export { decodeIdx, readIdx, encodeIdx } from './datasets/idx-file.js';
export type { IdxArray } from './datasets/idx-file.js';
export { augmentImage, validateAugment, flipHorizontal, padCrop, affineEdge, randomErase, PUL_KERAS_AUGMENT, REID_AUGMENT } from './datasets/augment.js';
export type { AugmentOptions } from './datasets/augment.js';
export { shuffledOrder, identitySampler } from './datasets/samplers.js';
export type { IdentitySamplerOptions } from './datasets/samplers.js';
export { iterateBatches } from './datasets/batches.js';
export type { BatchOptions, Batch } from './datasets/batches.js';
export { loadDataset, detectFormat, parseDatasetFormat, parseClassList, DATASET_LOADERS } from './datasets/load-dataset.js';
export type { LoadDatasetOptions, Loader } from './datasets/load-dataset.js';
export { loadMarket1501, parseMarketName, MARKET_FOLDERS } from './datasets/market1501.js';
export { loadMsmt17, parseMsmt17Camid } from './datasets/msmt17.js';
export { loadCsvManifest } from './datasets/csv-manifest.js';
export { loadIdx, findIdxFiles, FMNIST_DISJOINT_SOURCE_CLASSES, FMNIST_DISJOINT_TARGET_CLASSES } from './datasets/idx.js';
export type { IdxOptions } from './datasets/idx.js';
export { loadFolderPerIdentity } from './datasets/folder-per-identity.js';
export { summarizeDataset, datasetWarnings, checkImages, screenImages, corruptImagesError } from './datasets/summary.js';
export type { DatasetSummary, SplitSummary, CheckReport, BadImagePolicy, ScreenedSamples } from './datasets/summary.js';
export { generateSyntheticReid, ensureSyntheticReid, syntheticReidCounts, writeContactSheet } from './datasets/synthetic-reid.js';
export type { SyntheticReidOptions, SyntheticReidReport } from './datasets/synthetic-reid.js';

// config
export { PipelineConfigSchema } from './config/schema.js';
export type { PipelineConfig, PipelineConfigInput } from './config/schema.js';
export { loadConfig, parseConfig, mergeConfig, configDifferences, checkResumeSettings } from './config/load-config.js';
export { configJsonSchema, configReference } from './config/config-docs.js';

// pipeline
export { runStages } from './pipeline/run-stages.js';
export type { Stage, StageContext, StageOutcome, PipelinePlan, RunOptions } from './pipeline/run-stages.js';
export { loadRunState, saveRunState, newRunState, isDone, recordOf, nextStage, RUN_STATE_FILE } from './pipeline/state.js';
export type { RunState, StageRecord, PlanOutline } from './pipeline/state.js';
export { describeRun, formatRunOverview } from './pipeline/describe-run.js';
export type { RunOverview } from './pipeline/describe-run.js';
export { runPul, pulPlan, isRunDir, METRICS_LOG } from './pipeline/run-pul.js';
export type { PulRunOptions, PulRunResult } from './pipeline/run-pul.js';
export { PulSession } from './pipeline/pul-session.js';
export type { PulData, LabelledSamples } from './pipeline/pul-session.js';
export { summarizePulRun, formatPulSummary } from './pipeline/run-summary.js';
export type { PulRunSummary, RoundSummary, TestFigures } from './pipeline/run-summary.js';
export { trainResumable } from './pipeline/resumable-training.js';
export { writeSkippedImages, readSkippedImages, SKIPPED_IMAGES } from './pipeline/skipped-images.js';
export type { ResumableTraining } from './pipeline/resumable-training.js';
export { evaluateModel } from './pipeline/evaluate-model.js';
export type { TestMetrics, EvaluateModelOptions } from './pipeline/evaluate-model.js';

// model
export { CLASSIFIER_INIT_OPTIONS, classifierInitKind, LAYERS_MODEL_PREFIX, MODEL_CHOICE_FLAGS, modelSpecFor, type ClassifierInitOption, type ModelChoice, type ModelChoiceNames } from './model/model-choice.js';
export { buildModel, replaceClassifier, reidModelFrom, modelPreset, countTrainableParams, disposeModel, MODEL_PRESETS, ARCHITECTURES, LAYER_EMBEDDING, LAYER_BNNECK, LAYER_CLASSIFIER } from './model/build-model.js';
export type { ModelSpec, ReidModel, Architecture, ModelPresetName } from './model/build-model.js';
export { referenceBackbone } from './model/reference-nets.js';
export type { ReferenceNetName } from './model/reference-nets.js';
export { makeInitializer, INIT_KINDS } from './model/initializers.js';
export type { InitKind } from './model/initializers.js';
export { fileIOHandler, loadLayersModelFromDir, MODEL_JSON, WEIGHTS_BIN } from './model/model-io.js';
export { extractFeatures } from './features/extract-features.js';
export type { ExtractOptions } from './features/extract-features.js';
export { extractFeatureFolder } from './features/extract-folder.js';

// losses
export { crossEntropy } from './losses/cross-entropy.js';
export type { CrossEntropyOptions } from './losses/cross-entropy.js';
export { clusterLoss, pulObjective, l2NormalizeRows } from './losses/cluster-loss.js';
export type { PulObjectiveOptions } from './losses/cluster-loss.js';
export { tripletBatchHard, pairwiseDistances } from './losses/triplet.js';
export type { TripletOptions } from './losses/triplet.js';
export { centerLoss } from './losses/center-loss.js';
export { liftedStructuredLoss } from './losses/lifted-structured.js';
export type { LiftedOptions } from './losses/lifted-structured.js';
export { nPairLoss } from './losses/n-pair.js';
export type { NPairOptions } from './losses/n-pair.js';

// training
export { Trainer } from './training/train.js';
export type { TrainOptions, TrainContext, EpochRecord, TrainerState, NamedTensor } from './training/train.js';
export { createOptimizer, learningRateAt, setLearningRate, validateOptimizerOptions } from './training/optimizer.js';
export type { OptimizerOptions, LrSchedule } from './training/optimizer.js';
export { datasetBatchSource } from './training/batch-source.js';
export type { BatchSource, TrainBatch, DatasetBatchOptions } from './training/batch-source.js';

// checkpoints
export { CheckpointManifestSchema, CHECKPOINT_FORMAT_VERSION, META_JSON, OPTIMIZER_BIN } from './checkpoints/checkpoint.js';
export type { Checkpoint, CheckpointManifest } from './checkpoints/checkpoint.js';
export { saveCheckpoint } from './checkpoints/save-checkpoint.js';
export type { SaveCheckpointInput } from './checkpoints/save-checkpoint.js';
export { readCheckpoint, loadCheckpoint, loadOptimizerState } from './checkpoints/load-checkpoint.js';
export type { ExpectedModel, LoadedCheckpoint } from './checkpoints/load-checkpoint.js';
export { writeLatest, resolveLatest, LATEST_JSON } from './checkpoints/latest.js';
export { describeCheckpoint, formatCheckpointDescription } from './checkpoints/describe-checkpoint.js';
export type { CheckpointDescription } from './checkpoints/describe-checkpoint.js';
