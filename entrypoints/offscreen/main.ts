// The offscreen document is where media bytes are handled in Chrome (the service worker never
// holds them): the media engine's demux/mux and OPFS writes run here, and blob URLs for
// downloads.download are made here (the worker has no URL.createObjectURL). Wired by the media
// engine; page MP4 files are saved by the browser directly and do not come here.
export {};
