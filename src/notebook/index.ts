/** The kernel side of notebooks: rich outputs for tslab, comms and widgets, live dashboards, stop handling. */
export { display, UpdatableOutput } from './display';
export { figureBundle, plotlyJson, resetPlotly, PLOTLY_MIME, type Displayable, type BundleOptions } from './bundle';
export { setDisplaySink, inKernel, type DisplaySink, type DisplayContent, type MimeBundle } from './kernel';
export { plot, type SampleSource } from './plot';
export { augmentSamples } from './samples';
export * as figures from './figures';
export { show, Dashboard, DASHBOARD_DEFAULTS, type DashboardOptions, type DashboardState, type RunSummary, type RunnableSearch } from './live';
export { StopSignal, interruptSignal } from './stop';
export { loadRun, type LoadedRun, type SearchLike, type HistoryLike, type PolicySource } from './shape';
export { pngDataUri, encodeSamples, galleryData } from './images';
export { comm, Comm, setCommTransport, deliverToKernel, type CommMessage, type CommTransport, type SendOptions } from './comm';
export * as widgets from './jupyter-widgets';
export { installKernelExtension } from './extension';
export { controls, SearchControls, CONTROLS_DEFAULTS, type ControlsOptions, type PanelState } from './controls';

import { installKernelExtension } from './extension';

// Imported in a tslab kernel (`import 'dralab'`), dralab extends it: comms, widgets, interrupts.
installKernelExtension();
