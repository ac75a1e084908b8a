"""What every page does with its two languages (`languages.js`), served beside each page's own files by
`api.pages.PageFiles` (package data)."""
