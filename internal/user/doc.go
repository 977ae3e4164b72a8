// Package user keeps the end users of a project: created, updated and
// deleted, each change recorded as its event.
//
// Deleting a user (DELETE /projects/{p}/users/{id}) records
// com.gigs.user.deleted and, in the same transaction, ends every subscription
// of the user that has not ended (cause userDeleted) and cancels the user's
// open portings (see Hooks.Deleted and subscription.Service.UserDeleted).
// This follows the platform's help center ("Delete an end-user", checked
// for this change): once a user is deleted, any subscriptions the user had
// are immediately ended, resources related to the user remain, and the user
// may sign up again with the same e-mail. So a deleted user is kept, marked
// deleted, for the subscriptions that embed it; the API answers userNotFound
// for it, lists no longer show it, and its e-mail is free again.
package user
