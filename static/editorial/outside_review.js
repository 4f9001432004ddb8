/* The outside reviewer's page (editorial/outside_review_page.html): select words in the story
   and a button offers to comment on them; it quotes them in the comment form, with the number
   of their paragraph. Without JavaScript the form works as it is: paste the passage by hand. */
(function () {
  "use strict";
  var box = document.getElementById("outside-review");
  var body = document.querySelector(".story-body");
  if (!box || !body) return;
  var passage = document.getElementById("outside-passage");
  var paragraph = document.getElementById("outside-paragraph");
  var comment = document.getElementById("outside-comment");

  var button = document.createElement("button");
  button.type = "button";
  button.className = "outside-quote-button";
  button.textContent = box.getAttribute("data-quote-label");
  button.hidden = true;
  document.body.appendChild(button);

  var chosen = null;

  function paragraphOf(node) {
    var element = node && node.nodeType === 1 ? node : node && node.parentElement;
    while (element && element.parentElement !== body) element = element.parentElement;
    if (!element) return null;
    return Array.prototype.indexOf.call(body.children, element) + 1;
  }

  function look() {
    var selection = window.getSelection();
    var text = selection ? selection.toString().replace(/\s+/g, " ").trim() : "";
    if (!text || selection.rangeCount === 0 || !body.contains(selection.anchorNode)) {
      button.hidden = true;
      chosen = null;
      return;
    }
    chosen = { text: text.slice(0, 2000), paragraph: paragraphOf(selection.anchorNode) };
    var rect = selection.getRangeAt(0).getBoundingClientRect();
    button.style.top = window.scrollY + rect.bottom + 6 + "px";
    button.style.left = window.scrollX + rect.left + "px";
    button.hidden = false;
  }

  document.addEventListener("mouseup", function () { window.setTimeout(look, 0); });
  document.addEventListener("keyup", function (event) { if (event.shiftKey || event.key === "Shift") look(); });
  document.addEventListener("touchend", function () { window.setTimeout(look, 0); });

  button.addEventListener("mousedown", function (event) { event.preventDefault(); });
  button.addEventListener("click", function () {
    if (!chosen) return;
    passage.value = chosen.text;
    paragraph.value = chosen.paragraph || "";
    button.hidden = true;
    comment.scrollIntoView({ block: "center" });
    comment.focus();
  });
})();
