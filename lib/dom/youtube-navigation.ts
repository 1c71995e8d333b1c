/**
 * YouTube moves between videos without loading a page. This calls `onChange` after each such move:
 * on YouTube's own `yt-navigate-finish` event, on history navigation (popstate), and, should YouTube
 * rename its events, when polling sees the URL change.
 */
export function onYouTubeNavigation(onChange: () => void, pollMs = 500): () => void {
  let last = location.href;
  const fire = () => {
    last = location.href;
    onChange();
  };
  const poll = () => {
    if (location.href !== last) fire();
  };
  document.addEventListener('yt-navigate-finish', fire);
  addEventListener('popstate', fire);
  const timer = setInterval(poll, pollMs);
  return () => {
    document.removeEventListener('yt-navigate-finish', fire);
    removeEventListener('popstate', fire);
    clearInterval(timer);
  };
}
