// A form marked data-confirm asks before it is sent: an irreversible step (a revocation ends
// the grantee's views at once) is not one click away from a slip.
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    e.preventDefault();
  }
}, true);
