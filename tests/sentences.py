"""A toy grammar for learnable corpora: subject, verb, object, full stop.

Sixty-four words in three slots: a corpus written from them is varied enough to split into
train and validation, and regular enough that a tiny model learns it in a few steps.
"""

SUBJECTS = ["the cat", "a dog", "the teacher", "my friend", "the model", "a bird", "the child", "our team"]
VERBS = ["sees", "likes", "reads", "finds", "builds", "trains", "writes", "moves"]
OBJECTS = ["the ball", "a book", "the tree", "some code", "the river", "a letter", "the house", "a song"]
