"""The one exception type that reaches a user as a single line."""


class LganError(Exception):
    """A problem with the user's input or environment, shown as one line with a non-zero exit.

    Library code raises it with a message that names the problem and the path or value involved,
    e.g. ``LganError("not a media file: clip.txt")``. The CLI prints ``Error: <message>``.
    """
