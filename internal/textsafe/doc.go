// Package textsafe prepares text written by Gitea users for a language
// model: [Clean] strips invisible and direction-changing characters that can
// hide instructions, and [MaskSecrets] masks credentials that were committed
// to a repository, so an assistant neither obeys hidden text nor repeats a
// leaked key.
package textsafe
