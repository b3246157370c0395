import type { DisplayContent, DisplaySink } from '../../src/notebook';

export interface Sent {
  type: 'display_data' | 'update_display_data';
  content: DisplayContent;
}

/** Records outputs the way the kernel would publish them (serialised as JSON). */
export class RecordingSink implements DisplaySink {
  readonly sent: Sent[] = [];
  bytes = 0;
  send(content: DisplayContent, update: boolean): void {
    // The kernel JSON-encodes every message; doing the same keeps timing honest.
    this.bytes += JSON.stringify(content).length;
    this.sent.push({ type: update ? 'update_display_data' : 'display_data', content });
  }
}
