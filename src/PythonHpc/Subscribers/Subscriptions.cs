using PythonHpc.Hosting;
using PythonHpc.Mail;

namespace PythonHpc.Subscribers;

/// <summary>
/// Double opt-in, end to end: a request makes a pending subscriber and mails a confirmation link;
/// the link confirms; every message carries the subscriber's own unsubscribe link.
/// </summary>
internal sealed class Subscriptions(
    SubscriberStore store, SubscriberTokens tokens, ConfirmationMessage confirmation, MailTransport transport,
    HttpOptions http, SubscribersOptions options, TimeProvider clock)
{
    public SubscriberStore Store => store;

    public SubscriberTokens Tokens => tokens;

    public MailTransport Transport => transport;

    public Uri ConfirmUrl(long id) => new(http.PublicUri, "confirm/" + tokens.Confirm(id));

    public Uri UnsubscribeUrl(long id) => new(http.PublicUri, "unsubscribe/" + tokens.Unsubscribe(id));

    /// <summary>Who <paramref name="subscriber"/> is to a message: their address, name, and unsubscribe link.</summary>
    public Recipient Recipient(Subscriber subscriber) =>
        new(subscriber.Email, subscriber.Name.Length > 0 ? subscriber.Name : null, UnsubscribeUrl(subscriber.Id));

    public Task<Subscription> Request(EmailAddress email, string name, SubscriberSource source, Consent consent, CancellationToken cancellationToken) =>
        store.Subscribe(email, name, source, consent, options.ResendConfirmationAfter, cancellationToken);

    /// <summary>
    /// Mails <paramref name="subscriber"/> their confirmation link. When it cannot be sent, the claim
    /// taken by <see cref="Request"/> is given back, so that asking again sends one at once.
    /// </summary>
    public async Task<string> SendConfirmation(Subscriber subscriber, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        using var message = confirmation.Compose(Recipient(subscriber), ConfirmUrl(subscriber.Id), now + options.ConfirmWithin, now);
        try
        {
            return await transport.Send(message, cancellationToken);
        }
        catch (Exception e) when (e is MailSendException or OperationCanceledException)
        {
            await store.ReleaseConfirmation(subscriber.Id, CancellationToken.None);
            throw;
        }
    }
}
