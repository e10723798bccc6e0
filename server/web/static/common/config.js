/* The server's settings for this page (tile URL, languages, asset version), from the JSON that
 * base.html writes into #fs-config. */

export const config = JSON.parse(document.getElementById("fs-config").textContent);
