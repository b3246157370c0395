/**
 * An in-memory labelled image set: 8-bit pixels in NHWC order.
 * Kept as plain typed arrays so data never holds tensors between steps.
 */
export interface ImageSet {
  /** count * height * width * channels bytes, NHWC. */
  readonly images: Uint8Array;
  /** count labels in [0, numClasses). */
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface Dataset {
  /** The spec string it was loaded from, e.g. `synthetic:colour` or `cifar10:/data/cifar`. */
  readonly spec: string;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** One line on what it is (for reports). */
  readonly description: string;
  /**
   * True when a horizontal flip changes the label (a planted orientation rule): the
   * search's random crop and flip is then off unless asked for.
   */
  readonly flipChangesLabels?: boolean;
}
