using PythonHpc.Hosting;
using PythonHpc.Mail;
using PythonHpc.Store;

namespace PythonHpc.Subscribers;

internal static class SubscribersSetup
{
    /// <summary>The store, tokens, confirmation mail and pages; all built at start (<see cref="Validate"/>).</summary>
    public static IServiceCollection AddSubscribers(this IServiceCollection services) => services
        .AddSingleton(s => Database.Open(s.GetRequiredService<StoreOptions>()))
        .AddSingleton<SubscriberStore>()
        .AddSingleton(s => new SubscriberTokens(
            SubscriberTokens.Secret(s.GetRequiredService<SecurityOptions>(), s.GetRequiredService<StoreOptions>()),
            s.GetRequiredService<TimeProvider>(), s.GetRequiredService<SubscribersOptions>().ConfirmWithin))
        .AddSingleton(s => new ConfirmationMessage(
            s.GetRequiredService<SiteOptions>(), s.GetRequiredService<MailOptions>(), s.GetRequiredService<SubscribersOptions>().ConfirmationSubject,
            s.GetRequiredService<LiquidTemplates>(), s.GetService<MessageSigner>()))
        .AddSingleton<Subscriptions>()
        .AddSingleton<ConfirmationQueue>()
        .AddHostedService(s => s.GetRequiredService<ConfirmationQueue>())
        .AddSingleton<SubscribeLimiter>()
        .AddSingleton<WebPages>();

    /// <summary>Opens the database (migrating it) and parses the templates, so that either problem stops start-up with its place.</summary>
    public static void Validate(IServiceProvider services)
    {
        services.GetRequiredService<Subscriptions>();
        services.GetRequiredService<WebPages>();
    }
}
