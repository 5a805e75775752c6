"""The discussion on a document's card: messages, replies, @mentions, attachments,
read marks, and the messages a document's guests may read."""
