/** Sending figures and updatable outputs to the notebook. */
import type { Figure } from '../../widgets';
import { figureBundle, type BundleOptions, type Displayable } from './bundle';
import { sendDisplay, uniqueId, type MimeBundle } from './kernel';

function asDisplayable(item: Displayable | Figure): Displayable {
  if ('figure' in item) return item;
  return { figure: item, text: item.layout.title?.text ?? 'figure' };
}

/**
 * Shows a figure as ONE output carrying plotly JSON, self-contained HTML, SVG and text.
 * Returns nothing, so tslab prints nothing after it.
 */
export function display(item: Displayable | Figure, options?: BundleOptions): void {
  sendDisplay({ data: figureBundle(asDisplayable(item), options), metadata: {}, transient: {} });
}

/** An output that can be replaced in place (display_data, then update_display_data). */
export class UpdatableOutput {
  readonly displayId = uniqueId('dralab-display');
  private shown = false;

  /** Sends the bundle: the first call creates the output, later calls replace it. */
  show(data: MimeBundle): void {
    sendDisplay({ data, metadata: {}, transient: { display_id: this.displayId } }, this.shown);
    this.shown = true;
  }

  get isShown(): boolean {
    return this.shown;
  }
}
