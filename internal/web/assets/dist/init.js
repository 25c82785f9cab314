// Starts GOV.UK Frontend's components (the collapsing navigation menu, focus
// on the error summary, double-submit protection on buttons).
//
// Every page works without this file. It is a module, so browsers too old for
// GOV.UK Frontend's JavaScript never run it, and it replaces the inline script
// GOV.UK Frontend's own page template uses, which lbm's Content Security
// Policy forbids.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
