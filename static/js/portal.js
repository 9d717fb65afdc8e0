// Small behaviours of the portal; htmx does the rest. No inline scripts (CSP-friendly).
(function () {
  "use strict";

  var toastTimer = null;

  function showToast(message, kind) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    toast.textContent = message;
    toast.className = "toast" + (kind ? " toast--" + kind : "");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, kind === "error" ? 8000 : 2500);
  }

  // Live saves answer with HX-Trigger: saved → a discreet "Enregistré".
  document.body.addEventListener("saved", function (event) {
    var detail = event.detail && event.detail.value;
    showToast(typeof detail === "string" && detail ? detail : "Enregistré", "success");
  });

  // 4xx/5xx that htmx does not swap (all but 422): say what happened instead of doing nothing.
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var holder = document.createElement("div");
    holder.innerHTML = xhr.responseText || "";
    var alert = holder.querySelector("[role=alert]");
    showToast(alert ? alert.textContent.trim() : "Erreur " + xhr.status + " : l'opération n'a pas abouti.", "error");
  });

  document.body.addEventListener("htmx:sendError", function () {
    showToast("Connexion au serveur impossible : vérifiez votre réseau puis réessayez.", "error");
  });

  // Live character counters: <textarea data-maxlength="3000"> gets "123 / 3000".
  function attachCounters(root) {
    root.querySelectorAll("[data-maxlength]").forEach(function (field) {
      if (field.dataset.counterReady) return;
      field.dataset.counterReady = "1";
      var max = parseInt(field.dataset.maxlength, 10);
      var counter = document.createElement("p");
      counter.className = "field__counter";
      counter.setAttribute("aria-live", "polite");
      // A Trix field counts the text the reader sees, as the server does (not the HTML).
      var editor = field.type === "hidden" ? document.querySelector('trix-editor[input="' + field.id + '"]') : null;
      (editor || field).insertAdjacentElement("afterend", counter);
      function update() {
        var length = editor && editor.editor
          ? editor.editor.getDocument().toString().replace(/\s+/g, " ").trim().length
          : field.value.length;
        counter.textContent = length + " / " + max + " caractères";
        counter.classList.toggle("field__counter--over", length > max);
      }
      field.addEventListener("input", update);
      if (editor) {
        editor.addEventListener("trix-change", update);
        editor.addEventListener("trix-initialize", update);
      }
      update();
    });
  }
  attachCounters(document);
  document.body.addEventListener("htmx:load", function (event) { attachCounters(event.detail.elt); });
})();

// "Annuler" on an add form: drop the form (without JavaScript the link reloads the page).
document.addEventListener("click", function (event) {
  var cancel = event.target.closest("[data-cancel-new]");
  if (!cancel) return;
  var form = cancel.closest("form");
  if (form) {
    event.preventDefault();
    form.remove();
  }
});

// Oui/Non radios that show one block and hide the other (data-toggle-target="id").
document.addEventListener("change", function (event) {
  var radio = event.target;
  if (!radio.matches || !radio.matches("input[type=radio][data-toggle-target]")) return;
  document.querySelectorAll('input[type=radio][name="' + radio.name + '"][data-toggle-target]')
    .forEach(function (option) {
      var block = document.getElementById(option.dataset.toggleTarget);
      if (block) block.hidden = !option.checked;
    });
});

// Trix speaks French here: its toolbar labels are read by screen readers and shown as tooltips.
document.addEventListener("trix-before-initialize", function () {
  if (!window.Trix || window.Trix.config.lang.bold === "Gras") return;
  Object.assign(window.Trix.config.lang, {
    bold: "Gras", italic: "Italique", link: "Lien", bullets: "Liste à puces", numbers: "Liste numérotée",
    undo: "Annuler", redo: "Rétablir", indent: "Augmenter le retrait", outdent: "Diminuer le retrait",
    urlPlaceholder: "Saisissez une adresse web…", unlink: "Supprimer le lien",
    strike: "Barré", quote: "Citation", code: "Code", heading1: "Titre",
    attachFiles: "Joindre des fichiers", captionPlaceholder: "Ajoutez une légende…",
  });
});

// Lists: a header checkbox ticks every row of the page (data-select-all="<bulk form id>").
document.addEventListener("change", function (event) {
  var all = event.target;
  if (!all.matches || !all.matches("input[type=checkbox][data-select-all]")) return;
  document.querySelectorAll('input[type=checkbox][form="' + all.dataset.selectAll + '"]')
    .forEach(function (box) { box.checked = all.checked; });
});
