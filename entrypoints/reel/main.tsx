import { createRoot } from 'react-dom/client';
import '@/components/theme.css';
import { ReelPage } from '@/components/ReelPage';

createRoot(document.getElementById('root')!).render(<ReelPage />);
