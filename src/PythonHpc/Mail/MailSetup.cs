using PythonHpc.Hosting;

namespace PythonHpc.Mail;

internal static class MailSetup
{
    /// <summary>
    /// The announcement composer, with its templates parsed and its DKIM key read; built at start-up
    /// (see <see cref="Validate"/>) so that a broken template or key stops the service with its file
    /// and line instead of failing the first announcement.
    /// </summary>
    public static IServiceCollection AddMail(this IServiceCollection services) => services
        .AddSingleton(s => new LiquidTemplates(s.GetRequiredService<TemplatesOptions>()))
        .AddSingleton(s => MessageSigner.Create(s.GetRequiredService<MailOptions>().Dkim)!)
        .AddSingleton(s => MailTransport.Create(s.GetRequiredService<MailOptions>()))
        .AddSingleton(s => new AnnouncementMessage(
            s.GetRequiredService<SiteOptions>(), s.GetRequiredService<MailOptions>(), s.GetRequiredService<Announcements.AnnouncementsOptions>(),
            s.GetRequiredService<LiquidTemplates>(), s.GetService<MessageSigner>()));

    /// <summary>Builds what <see cref="AddMail"/> registered; a <see cref="ConfigurationException"/> names what is wrong.</summary>
    public static void Validate(IServiceProvider services) => services.GetRequiredService<AnnouncementMessage>();
}
