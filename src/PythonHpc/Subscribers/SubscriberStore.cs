using System.Data.Common;
using PythonHpc.Store;

namespace PythonHpc.Subscribers;

/// <summary>What a subscription request did, for the caller to act on (and never to show: the form's answer is always the same).</summary>
internal sealed record Subscription(Subscriber Subscriber, bool SendConfirmation);

/// <summary>A row of an import, already checked.</summary>
internal sealed record ImportRow(EmailAddress Email, string Name, SubscriberStatus Status);

/// <summary>Subscribers in the <see cref="Database"/>: each method one named statement, each change one transaction.</summary>
internal sealed class SubscriberStore
{
    private readonly Database _database;
    private readonly TimeProvider _clock;

    public SubscriberStore(Database database, TimeProvider clock)
    {
        (_database, _clock) = (database, clock);
        database.Require("subscriber-by-email", "subscriber-by-id", "subscribers-by-status", "subscriber-counts", "subscribe",
            "claim-confirmation", "release-confirmation", "add-confirmed", "confirm", "unsubscribe", "remove", "import",
            "left-email-keys");
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    public async Task<Subscriber?> SubscriberByEmail(EmailAddress email, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "subscriber-by-email").With("email_key", email.Key);
        return await Single(command, cancellationToken);
    }

    public async Task<Subscriber?> SubscriberById(long id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "subscriber-by-id").With("id", id);
        return await Single(command, cancellationToken);
    }

    /// <summary>
    /// A request to subscribe: a new or returning address becomes pending with <paramref name="consent"/>
    /// as its proof; a confirmed one is left alone. <see cref="Subscription.SendConfirmation"/> says
    /// whether this request should mail a confirmation: not if one went less than
    /// <paramref name="resendAfter"/> ago, so that the form cannot flood an inbox.
    /// </summary>
    public async Task<Subscription> Subscribe(EmailAddress email, string name, SubscriberSource source, Consent consent, TimeSpan resendAfter, CancellationToken cancellationToken)
    {
        var now = Now;
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var subscribe = _database.Command(connection, "subscribe", transaction)
            .With("email", email.Value).With("email_key", email.Key).With("name", name).With("source", source)
            .With("now", now).With("ip", consent.Ip).With("user_agent", consent.UserAgent);
        var subscriber = (await Single(subscribe, cancellationToken))!;
        var send = false;
        if (subscriber.Status == SubscriberStatus.Pending)
        {
            await using var claim = _database.Command(connection, "claim-confirmation", transaction)
                .With("id", subscriber.Id).With("now", now).With("resend_after", now - resendAfter);
            send = await claim.ExecuteNonQueryAsync(cancellationToken) == 1;
        }
        await transaction.CommitAsync(cancellationToken);
        return new Subscription(subscriber, send);
    }

    public async Task ReleaseConfirmation(long id, CancellationToken cancellationToken)
    {
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "release-confirmation").With("id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Subscribed by the blog's owner, confirmed at once (<c>subscribers add --confirmed</c>).</summary>
    public async Task<Subscriber> AddConfirmed(EmailAddress email, string name, SubscriberSource source, CancellationToken cancellationToken)
    {
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "add-confirmed")
            .With("email", email.Value).With("email_key", email.Key).With("name", name).With("source", source).With("now", Now);
        return (await Single(command, cancellationToken))!;
    }

    /// <summary>Confirms a pending subscriber; false when <paramref name="id"/> is not pending (already confirmed, gone, or left).</summary>
    public async Task<bool> ConfirmSubscriber(long id, Consent confirmation, CancellationToken cancellationToken)
    {
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "confirm")
            .With("id", id).With("now", Now).With("ip", confirmation.Ip).With("user_agent", confirmation.UserAgent);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Unsubscribes; false when there was nothing to do (already left, bounced, complained, or erased).</summary>
    public async Task<bool> Unsubscribe(long id, CancellationToken cancellationToken)
    {
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "unsubscribe").With("id", id).With("now", Now);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Erases the subscriber and their personal data; false when there was none.</summary>
    public async Task<bool> RemoveSubscriber(EmailAddress email, CancellationToken cancellationToken)
    {
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "remove").With("email_key", email.Key);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyDictionary<SubscriberStatus, int>> Counts(CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "subscriber-counts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = Enum.GetValues<SubscriberStatus>().ToDictionary(s => s, _ => 0);
        while (await reader.ReadAsync(cancellationToken))
            counts[Enum.Parse<SubscriberStatus>(reader.GetString(0), ignoreCase: true)] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        return counts;
    }

    /// <summary>Every subscriber (or those in <paramref name="status"/>), in the order they came, streamed.</summary>
    public async IAsyncEnumerable<Subscriber> SubscribersByStatus(SubscriberStatus? status, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "subscribers-by-status").With("status", status);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = new Columns(reader);
        while (await reader.ReadAsync(cancellationToken))
            yield return columns.Read(reader);
    }

    /// <summary>Imports <paramref name="rows"/> in one transaction: all of them, or none if anything fails.</summary>
    public async Task Import(IEnumerable<ImportRow> rows, CancellationToken cancellationToken)
    {
        var now = Now;
        using var writing = await _database.Write(cancellationToken);
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = _database.Command(connection, "import", transaction)
            .With("email", "").With("email_key", "").With("name", "").With("status", "").With("now", now);
        // One prepared statement, its parameters re-bound per row: the difference between seconds and minutes for 100,000 rows.
        await command.PrepareAsync(cancellationToken);
        foreach (var row in rows)
        {
            command.Set("email", row.Email.Value);
            command.Set("email_key", row.Email.Key);
            command.Set("name", row.Name);
            command.Set("status", row.Status);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The keys (<see cref="EmailAddress.Key"/>) of every address that unsubscribed, bounced or complained: what an import never re-subscribes.</summary>
    public async Task<HashSet<string>> LeftEmailKeys(CancellationToken cancellationToken)
    {
        await using var connection = await _database.ConnectAsync(cancellationToken);
        await using var command = _database.Command(connection, "left-email-keys");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
            keys.Add(reader.GetString(0));
        return keys;
    }

    private static async Task<Subscriber?> Single(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Columns(reader).Read(reader) : null;
    }

    /// <summary>Column positions, looked up once per result rather than per row.</summary>
    private sealed class Columns(DbDataReader reader)
    {
        private readonly int _id = reader.GetOrdinal("id"), _email = reader.GetOrdinal("email"), _name = reader.GetOrdinal("name"),
            _status = reader.GetOrdinal("status"), _source = reader.GetOrdinal("source");

        public Subscriber Read(DbDataReader row) => new(
            row.GetInt64(_id),
            row.GetString(_email),
            row.GetString(_name),
            Enum.Parse<SubscriberStatus>(row.GetString(_status), ignoreCase: true),
            Enum.Parse<SubscriberSource>(row.GetString(_source), ignoreCase: true),
            row.Time("created_at")!.Value,
            row.Time("confirmed_at"),
            row.Time("unsubscribed_at"),
            new Consent(row.Time("consent_at"), row.Text("consent_ip"), row.Text("consent_user_agent")),
            new Consent(row.Time("confirmed_at"), row.Text("confirm_ip"), row.Text("confirm_user_agent")));
    }
}
