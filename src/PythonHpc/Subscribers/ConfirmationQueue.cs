using System.Threading.Channels;
using PythonHpc.Mail;

namespace PythonHpc.Subscribers;

/// <summary>
/// Confirmation emails, sent apart from the request that asked for them: the form answers in the
/// same time whether or not a message goes out (a slow answer would tell that an address is new),
/// and a slow relay never holds a request. A full queue drops the request's email, not the
/// subscriber: asking again sends it.
/// </summary>
internal sealed partial class ConfirmationQueue(Subscriptions subscriptions, ILogger<ConfirmationQueue> log) : BackgroundService
{
    private readonly Channel<Subscriber> _queue = Channel.CreateBounded<Subscriber>(new BoundedChannelOptions(10_000) { SingleReader = true });

    public async Task Enqueue(Subscriber subscriber)
    {
        if (!_queue.Writer.TryWrite(subscriber))
        {
            QueueFull(log, subscriber.Id);
            await subscriptions.Store.ReleaseConfirmation(subscriber.Id, CancellationToken.None);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var subscriber in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                var reply = await subscriptions.SendConfirmation(subscriber, stoppingToken);
                Sent(log, subscriber.Id, reply);
            }
            catch (MailSendException e)
            {
                // The address is personal data: logs name the subscriber by id.
                NotSent(log, subscriber.Id, e.Permanent ? "refused" : "it goes when they ask again", e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Confirmation queue full: subscriber {Id} gets their email when they ask again")]
    private static partial void QueueFull(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Confirmation for subscriber {Id} sent: {Reply}")]
    private static partial void Sent(ILogger logger, long id, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Confirmation for subscriber {Id} not sent ({Outcome}): {Reason}")]
    private static partial void NotSent(ILogger logger, long id, string outcome, string reason);
}
