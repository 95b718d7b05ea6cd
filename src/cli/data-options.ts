/** Options shared by every command that reads a data set, defined once so they read the same everywhere. */
import { Option, type Command } from 'commander';
import { parseClassList, parseDatasetFormat, type DatasetFormat, type LoadDatasetOptions } from '../index.js';
import { parseWith } from './parse-options.js';

/** --allow-outside: manifests (CSV, MSMT17 lists) may name images outside their own folder. */
export function allowOutsideOption(): Option {
  return new Option('--allow-outside', "accept manifest (CSV, MSMT17 list) paths that leave the manifest's folder (refused by default)");
}

/** --check of the commands that train: decode every image first, stop if some cannot be decoded. */
export function checkImagesOption(): Option {
  return new Option('--check', 'decode every image before any training; stop, listing them, if some cannot be decoded');
}

/** --skip-bad of the commands that train: decode every image first, leave the corrupt ones out. */
export function skipBadOption(): Option {
  return new Option('--skip-bad', 'decode every image before any training and leave the corrupt ones out (listed in skipped-images.csv of the output folder)');
}

/** The loadDataset options of a command's --format, --classes and --allow-outside (unset ones left out). */
export function datasetLoadOptions(o: { readonly format?: DatasetFormat; readonly classes?: readonly number[]; readonly allowOutside?: boolean }): LoadDatasetOptions {
  return { ...(o.format ? { format: o.format } : {}), ...(o.classes ? { classes: o.classes } : {}), ...(o.allowOutside ? { allowOutside: true } : {}) };
}

/** --data PATH with its --format, --classes and --allow-outside, for the commands that rank a checkpoint on a data set's query/gallery split. */
export function addTestSetOptions(command: Command): Command {
  return command
    .option('--data <path>', 'with --checkpoint: a data set with query and gallery splits')
    .option('--format <format>', 'with --data: force a dataset layout', parseWith('--format', parseDatasetFormat))
    .option('--classes <list>', 'with --data (IDX): keep these labels, e.g. 5-9', parseWith('--classes', parseClassList))
    .addOption(allowOutsideOption());
}
