/**
 * Every problem with dataset input is a DatasetError whose message names the file (or
 * spec / directory) and what was expected, so a user can fix the data without reading
 * the loader's code.
 */
export class DatasetError extends Error {
  constructor(
    message: string,
    /** The file, directory or spec string the problem is in. */
    readonly source: string,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

export function datasetError(source: string, problem: string): DatasetError {
  return new DatasetError(`${source}: ${problem}`, source);
}
