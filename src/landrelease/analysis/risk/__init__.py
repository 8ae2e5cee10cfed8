"""The risk model: where mines are likely, so that non-technical survey goes there first.

It ranks grid cells; it never releases land. ``cells`` holds the table, ``basis`` the additive features,
``trees`` boosted shallow trees as arrays,
``model`` the fitted model and its safe JSON form, ``validation`` leave-group-out figures.
"""
