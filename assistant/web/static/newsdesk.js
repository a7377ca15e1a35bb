// Citation clicks are handled in the browser: the cards of every answer are already in the sources panel,
// so a click only has to show the right answer's cards and mark the card (no round trip, no race).
// Gradio calls this function once when the page loads (launch(js=...), see assistant/web/serve.py).
() => {
  if (window.__newsdeskCites) return;
  window.__newsdeskCites = true;
  const showTurn = (panel, turn) => panel.querySelectorAll('.nd-turn').forEach(
    (s) => s.classList.toggle('nd-active', s.dataset.turn === String(turn)));
  const open = (id, tries) => {
    const card = document.getElementById(id);
    if (!card) { if (tries < 40) setTimeout(() => open(id, tries + 1), 100); return; }
    const panel = card.closest('.nd-sources');
    const section = card.closest('.nd-turn');
    if (panel && section) showTurn(panel, section.dataset.turn);
    document.querySelectorAll('.nd-card.nd-selected').forEach((c) => c.classList.remove('nd-selected', 'nd-flash'));
    void card.offsetWidth;
    card.classList.add('nd-selected', 'nd-flash');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  };
  document.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const cite = target.closest('a.nd-cite, a[href^="#nd-src-"]');
    if (cite) {
      ev.preventDefault();
      ev.stopPropagation();
      open(cite.getAttribute('href').slice(1), 0);
      return;
    }
    const bubble = target.closest('.nd-answer');
    const turn = bubble && [...bubble.classList].map((c) => /^nd-t-(\d+)$/.exec(c)).find(Boolean);
    const panel = document.querySelector('.nd-sources');
    if (turn && panel && !target.closest('a')) showTurn(panel, turn[1]);
  }, true);
}
