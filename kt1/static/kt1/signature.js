// Signature pad: a person signs on a <canvas> with a finger, a stylus or a mouse (pointer events).
// The drawing goes into the hidden input next to the canvas as a PNG data URI
// ("data:image/png;base64,..."), after every stroke and again on submit; "Xóa chữ ký" clears both.
// Loaded with <script src> by the pages that need it (CSP forbids inline script).
(function () {
  "use strict";

  function setup(container) {
    const canvas = container.querySelector("canvas");
    const input = container.querySelector("input[type=hidden]");
    const clear = container.querySelector("[data-signature-clear]");
    if (!canvas || !input || container.dataset.signatureReady) { return; }
    container.dataset.signatureReady = "1";
    const ctx = canvas.getContext("2d");
    let drawn = false;
    let drawing = false;
    let last = null;

    function pen() {
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#10233f";
    }

    function blank() {
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.restore();
      pen();
    }

    // Draw at the displayed size times the device pixel ratio, so strokes stay sharp.
    function resize() {
      const rect = canvas.getBoundingClientRect();
      if (!rect.width || !rect.height) { return; }
      const ratio = window.devicePixelRatio || 1;
      const keep = drawn ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      blank();
      if (keep) { paint(keep); }
    }

    function paint(src) {
      const image = new Image();
      image.onload = function () {
        const rect = canvas.getBoundingClientRect();
        ctx.drawImage(image, 0, 0, rect.width || canvas.width, rect.height || canvas.height);
      };
      image.src = src;
    }

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function save() {
      input.value = drawn ? canvas.toDataURL("image/png") : "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) { return; }
      event.preventDefault();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of (events.length ? events : [event])) {
        const p = point(e);
        ctx.beginPath();
        ctx.moveTo(last.x, last.y);
        ctx.lineTo(p.x, p.y);
        ctx.stroke();
        last = p;
      }
    });
    function end(event) {
      if (!drawing) { return; }
      drawing = false;
      last = null;
      if (canvas.releasePointerCapture && event.pointerId !== undefined && canvas.hasPointerCapture &&
          canvas.hasPointerCapture(event.pointerId)) {
        canvas.releasePointerCapture(event.pointerId);
      }
      save();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", end);

    if (clear) {
      clear.addEventListener("click", function (event) {
        event.preventDefault();
        drawn = false;
        blank();
        save();
      });
    }

    const form = container.closest("form");
    if (form) {
      form.addEventListener("submit", function () { if (drawn) { save(); } });
    }

    resize();
    // A page shown again after a refused submit keeps the signature already given.
    if (input.value && input.value.indexOf("data:image/png;base64,") === 0) {
      drawn = true;
      paint(input.value);
    }
    window.addEventListener("resize", function () { resize(); });
  }

  function init() {
    document.querySelectorAll("[data-signature-pad]").forEach(setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  document.addEventListener("htmx:afterSwap", init);
})();
