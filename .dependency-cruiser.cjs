/**
 * The layering of ../ARCHITECTURE (README "Layout"): data flows one way,
 * datasets → features → clusters → selection → training → checkpoints → evaluation; a folder imports
 * only what its line allows; core is open to all; cli talks to the library through src/index.ts only.
 */
const ALLOWED = {
  core: [],
  backend: [],
  datasets: [],
  model: ['backend'],
  losses: ['backend'],
  features: ['datasets', 'model', 'backend'],
  clustering: ['features', 'backend'],
  selection: ['clustering', 'features'],
  training: ['selection', 'datasets', 'model', 'losses', 'backend', 'features'],
  mining: ['training', 'features', 'clustering', 'datasets', 'model', 'backend'],
  checkpoints: ['model', 'backend'],
  evaluation: ['features', 'datasets', 'model', 'backend'],
  config: ['selection', 'clustering', 'training', 'datasets', 'model', 'evaluation', 'features'],
  'index-store': ['features', 'evaluation', 'datasets'],
  serve: ['index-store', 'features', 'datasets'],
  pipeline: ['mining', 'config', 'datasets', 'features', 'clustering', 'selection', 'training', 'checkpoints', 'evaluation', 'model', 'losses', 'backend'],
  // reports read what every stage wrote: the end of the data flow
  report: ['pipeline', 'config', 'datasets', 'features', 'clustering', 'selection', 'checkpoints', 'evaluation', 'model', 'backend'],
};
const folders = Object.keys(ALLOWED);
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...folders.map((folder) => ({
      name: `layering-${folder}`,
      comment: `src/${folder} may import only: core${ALLOWED[folder].length ? ', ' + ALLOWED[folder].join(', ') : ''}`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(?!(${['core', folder, ...ALLOWED[folder]].join('|')})/)[^/]+/` },
    })),
    {
      name: 'datasets-no-tfjs',
      comment: 'dataset loaders stay free of tfjs so they test in milliseconds',
      severity: 'error',
      from: { path: '^src/datasets/' },
      to: { path: '@tensorflow' },
    },
    {
      name: 'cli-through-index',
      comment: 'the CLI is a thin client of the library: it imports src/index.ts only',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/(?!cli/|index\\.ts$)' },
    },
    {
      name: 'only-backend-imports-tfjs-backends',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/backend/' },
      to: { path: '@tensorflow/tfjs-(backend|node)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
