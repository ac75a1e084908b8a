"""Every word Steward says to a resident or a staff member, in zh-CN and en, in one place.

A text is rendered from a template key and string params. `NOTICES` are what the workflows send (each
names the case by its code); `PROMPTS` are what the Twilio webhooks answer with (keypad menus,
replies to an SMS). To add a message, add an entry with both locales; the tests render every entry in
both locales, so a missing translation or param fails the suite, and `render` refuses an unknown key
or a missing param at once instead of sending half a sentence.

Params whose name ends in `_due` or `_at` are ISO times and are written the local way; params that
name one of a fixed set of values (a callback's purpose, a tier, an escalation reason) are looked up
in the template's `choices` and said in the reader's language.
"""
